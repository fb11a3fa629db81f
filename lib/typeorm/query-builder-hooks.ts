import { DeleteQueryBuilder, EntityManager, InsertQueryBuilder, SelectQueryBuilder, UpdateQueryBuilder, type DataSource, type EntityMetadata, type QueryRunner } from 'typeorm';
import { SoftDeleteQueryBuilder } from 'typeorm/query-builder/SoftDeleteQueryBuilder.js';
import { cascadeTags } from './entity-tags.js';
import { keyOf, rowsByKeys, selectRows, type Row } from './rows.js';
import { SUBSCRIBER_BRAND, persistContext, statementContext, type StatementWrite } from './write-context.js';

/*
 * TypeORM hands bulk-write hooks no WHERE and no ids, so the write query builders' `execute` is
 * wrapped: before the statement runs, a SELECT with the same WHERE on the same query runner reads
 * the rows it will change, and the subscriber's after-hook of that statement finds them in an
 * AsyncLocalStorage. The wraps are global (prototypes); for a DataSource without the subscriber
 * they only mark the statement as ORM-issued, which costs nothing.
 */

// Module-local, not Symbol.for: if both the ESM and the CJS build get loaded, each wraps once and
// serves only its own subscribers, whose AsyncLocalStorage it shares.
const INSTALLED = Symbol('cache-tags typeorm hooks');

type WriteBuilder = (UpdateQueryBuilder<any> | DeleteQueryBuilder<any> | SoftDeleteQueryBuilder<any> | InsertQueryBuilder<any>) & {
  connection: DataSource;
};

/** Whether cache-tags is installed on the DataSource (per copy of this module: see {@link SUBSCRIBER_BRAND}). */
function hasCacheTagsSubscriber(dataSource: DataSource | undefined): boolean {
  return !!dataSource?.subscribers?.some((s) => (s as Record<symbol, unknown>)[SUBSCRIBER_BRAND] === true);
}

/** The query runner the builder was given (a transaction's), if any. */
function runnerOf(qb: WriteBuilder): QueryRunner | undefined {
  return (qb as unknown as { queryRunner?: QueryRunner }).queryRunner;
}

function mainMetadata(qb: WriteBuilder): EntityMetadata | undefined {
  const alias = qb.expressionMap.mainAlias;
  return alias?.hasMetadata ? alias.metadata : undefined;
}

/** A SELECT of the rows that `qb`'s WHERE matches, on `qb`'s query runner (shared/notes/orm-events.md §3). */
function rowsMatching(qb: WriteBuilder, metadata: EntityMetadata): Promise<Row[]> {
  const select = new SelectQueryBuilder<any>(qb as any);
  select.expressionMap.queryType = 'select';
  select.expressionMap.valuesSet = undefined;
  select.expressionMap.returning = '';
  return selectRows(select, metadata);
}

function writeKind(qb: WriteBuilder): StatementWrite['kind'] | undefined {
  switch (qb.expressionMap.queryType) {
    case 'update':
      return 'update';
    case 'delete':
      return 'delete';
    case 'soft-delete':
      return 'soft-delete';
    case 'restore':
      return 'restore';
    default:
      return undefined;
  }
}

/** Reads what a listened-to write will change, before it runs. */
async function preRead(qb: WriteBuilder, metadata: EntityMetadata): Promise<StatementWrite | undefined> {
  const map = qb.expressionMap;
  if (map.queryType === 'insert') {
    if (!map.onUpdate) return undefined;
    const conflict = ([] as string[]).concat(map.onUpdate.conflict ?? []);
    const conflictColumns = metadata.columns.filter((c) => conflict.includes(c.databaseName));
    if (conflictColumns.length === 0) return undefined;
    const values = ([] as object[]).concat((map.valuesSet) ?? []);
    const oldRows = await rowsByKeys(qb.connection, runnerOf(qb), metadata, conflictColumns, values.map((v) => keyOf(conflictColumns, v)));
    return { kind: 'upsert', metadata, valuesSet: map.valuesSet, oldRows, dependentTags: [], conflictColumns };
  }
  const kind = writeKind(qb);
  if (!kind) return undefined;
  const oldRows = await rowsMatching(qb, metadata);
  const dependentTags = kind === 'delete' && !metadata.isJunction ? await cascadeTags(qb.connection, runnerOf(qb), metadata, oldRows) : [];
  return { kind, metadata, valuesSet: map.valuesSet, oldRows, dependentTags };
}

function wrapExecute(proto: { execute: (...args: any[]) => Promise<unknown> }): void {
  const original = proto.execute;
  proto.execute = async function execute(this: WriteBuilder, ...args: unknown[]) {
    const metadata = mainMetadata(this);
    if (!metadata || !hasCacheTagsSubscriber(this.connection)) return statementContext.run({}, () => original.apply(this, args));
    if (this.expressionMap.callListeners) {
      const write = await preRead(this, metadata);
      return statementContext.run({ write }, () => original.apply(this, args));
    }
    const persist = persistContext.getStore();
    if (persist && this.expressionMap.queryType === 'update' && this.expressionMap.whereEntities.length === 0 && !metadata.isJunction) {
      // TypeORM updates orphaned children with listeners off and hands their hook no entity or id.
      persist.detached.push({ metadata, rows: await rowsMatching(this, metadata) });
    }
    return statementContext.run({}, () => original.apply(this, args));
  };
}

function wrapPersist(proto: Record<string, unknown>, method: string): void {
  const original = proto[method] as (...args: unknown[]) => Promise<unknown>;
  proto[method] = function persist(this: EntityManager, ...args: unknown[]) {
    const dataSource = (this as { dataSource?: DataSource }).dataSource ?? this.connection;
    if (!hasCacheTagsSubscriber(dataSource)) return original.apply(this, args);
    return persistContext.run({ detached: [] }, () => original.apply(this, args));
  };
}

/** Wraps the write query builders and the persist methods once per process (idempotent). */
export function installQueryBuilderHooks(): void {
  const marker = UpdateQueryBuilder.prototype as unknown as Record<symbol, boolean>;
  if (marker[INSTALLED]) return;
  marker[INSTALLED] = true;
  for (const builder of [UpdateQueryBuilder, DeleteQueryBuilder, SoftDeleteQueryBuilder, InsertQueryBuilder]) {
    wrapExecute(builder.prototype);
  }
  for (const method of ['save', 'remove', 'softRemove', 'recover']) wrapPersist(EntityManager.prototype as unknown as Record<string, unknown>, method);
}
