import { DeleteQueryBuilder, EntityManager, InsertQueryBuilder, UpdateQueryBuilder, type DataSource, type EntityMetadata, type QueryRunner } from 'typeorm';
import { SoftDeleteQueryBuilder } from 'typeorm/query-builder/SoftDeleteQueryBuilder.js';
import { collectTagFailures, type ResolvedOrmOptions } from '../orm/index.js';
import { bulkCascadeTags, cascadeTags, unknownRowTags } from './entity-tags.js';
import { keyOf, rowsByKeys, selectRows, type Row } from './rows.js';
import { SUBSCRIBER_BRAND, asOrmStatement, losesQueryContext, persistContext, statementContext, type BrandedSubscriber, type PersistContext, type StatementWrite } from './write-context.js';

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

/** The cache-tags subscriber of the DataSource (per copy of this module: see {@link SUBSCRIBER_BRAND}). */
export function brandedSubscriber(dataSource: DataSource | undefined): BrandedSubscriber | undefined {
  return dataSource?.subscribers?.find((s) => (s as Record<symbol, unknown>)[SUBSCRIBER_BRAND] === true) as BrandedSubscriber | undefined;
}

/** The query runner the builder was given (a transaction's), if any. */
function runnerOf(qb: WriteBuilder): QueryRunner | undefined {
  return (qb as unknown as { queryRunner?: QueryRunner }).queryRunner;
}

function mainMetadata(qb: WriteBuilder): EntityMetadata | undefined {
  const alias = qb.expressionMap.mainAlias;
  return alias?.hasMetadata ? alias.metadata : undefined;
}

/**
 * A SELECT of the rows that `qb`'s WHERE matches, on `qb`'s query runner, at most `limit` of
 * them (a bulk write is told apart by reading one row past its threshold, never all of them).
 *
 * A fresh builder over the write's table and alias, given the write's WHERE and parameters, not a
 * clone of the write's expression map: before TypeORM 0.3.31 the write's map keeps every alias its
 * builder was made with (`manager.increment` runs `createQueryBuilder(Photo, 'entity').update(Photo)`),
 * and a SELECT from that clone lists the table twice in FROM (an ambiguous column).
 */
function rowsMatching(qb: WriteBuilder, metadata: EntityMetadata, limit?: number): Promise<Row[]> {
  const select = qb.connection.createQueryBuilder(runnerOf(qb)).from(metadata.target, qb.alias);
  // The WHERE's column paths were written for the write's builder, unprefixed (`user.id` is a path).
  select.expressionMap.aliasNamePrefixingEnabled = qb.expressionMap.aliasNamePrefixingEnabled;
  select.expressionMap.wheres = [...qb.expressionMap.wheres];
  select.setParameters(qb.getParameters());
  // TypeORM 0.3's native parameters (1.x has none), which a write may have been given.
  const native = (qb.expressionMap as { nativeParameters?: Record<string, unknown> }).nativeParameters;
  if (native) Object.assign(select.expressionMap, { nativeParameters: { ...native } });
  if (limit !== undefined) select.limit(limit);
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
async function preRead(qb: WriteBuilder, metadata: EntityMetadata, options: ResolvedOrmOptions): Promise<StatementWrite | undefined> {
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
  const matched = await rowsMatching(qb, metadata, options.maxRowsPerWrite + 1);
  if (matched.length > options.maxRowsPerWrite) {
    // A bulk write: the type-level tags stand in for its rows (and for the rows its cascades reach).
    return { kind, metadata, valuesSet: map.valuesSet, oldRows: [], dependentTags: [...unknownRowTags(metadata), ...(kind === 'delete' ? bulkCascadeTags(qb.connection, metadata) : [])] };
  }
  const dependentTags = kind === 'delete' && !metadata.isJunction ? await cascadeTags(qb.connection, runnerOf(qb), metadata, matched, options.cascadeDepth) : [];
  return { kind, metadata, valuesSet: map.valuesSet, oldRows: matched, dependentTags };
}

function wrapExecute(proto: { execute: (...args: any[]) => Promise<unknown> }): void {
  const original = proto.execute;
  proto.execute = function execute(this: WriteBuilder, ...args: unknown[]) {
    const metadata = mainMetadata(this);
    const subscriber = metadata && brandedSubscriber(this.connection);
    if (!metadata || !subscriber) return statementContext.run({}, () => original.apply(this, args));
    // Inside a persist, the persist's own collection takes this statement's failures too.
    const covered = () => executeCovered(this, metadata, subscriber.options, original, args);
    const run = () => (persistContext.getStore() ? covered() : collectTagFailures(covered));
    return losesQueryContext(this.connection.driver.options.type) ? asOrmStatement(this.getQueryAndParameters()[0], run) : run();
  };
}

/**
 * Runs a write statement of a DataSource with cache-tags, with what its after-hook needs. The
 * statements of a persist (listeners off: the persist calls them) need nothing read first, and
 * go straight on.
 */
function executeCovered(qb: WriteBuilder, metadata: EntityMetadata, options: ResolvedOrmOptions, original: (...args: any[]) => Promise<unknown>, args: unknown[]): Promise<unknown> {
  const execute = (write?: StatementWrite): Promise<unknown> => statementContext.run(write ? { write } : {}, () => original.apply(qb, args));
  if (qb.expressionMap.callListeners) return preRead(qb, metadata, options).then(execute);
  const persist = persistContext.getStore();
  if (persist && qb.expressionMap.queryType === 'update' && qb.expressionMap.whereEntities.length === 0 && !metadata.isJunction) {
    // TypeORM updates orphaned children with listeners off and hands their hook no entity or id: their rows are read first.
    return Promise.resolve()
      .then(() => rowsMatching(qb, metadata))
      .then((rows) => {
        persist.detached.push({ metadata, rows });
        return execute();
      });
  }
  return execute();
}

function wrapPersist(proto: Record<string, unknown>, method: string): void {
  const original = proto[method] as (...args: unknown[]) => Promise<unknown>;
  proto[method] = function persist(this: EntityManager, ...args: unknown[]) {
    const dataSource = (this as { dataSource?: DataSource }).dataSource ?? this.connection;
    if (!brandedSubscriber(dataSource)) return original.apply(this, args);
    const persist: PersistContext = { detached: [] };
    return collectTagFailures(() => persistContext.run(persist, () => original.apply(this, args))).then(
      (result) => (persist.ended ? persist.ended.then(() => result) : result),
      (error: unknown) => {
        if (!persist.ended) throw error;
        // The write's own failure is what the caller hears of, as when the end's invalidation was awaited inside TypeORM.
        const rethrow = (): never => {
          throw error;
        };
        return persist.ended.then(rethrow, rethrow);
      },
    );
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
