import {
  EventSubscriber,
  type AfterQueryEvent,
  type DataSource,
  type EntityMetadata,
  type EntitySubscriberInterface,
  type InsertEvent,
  type LoadEvent,
  type QueryRunner,
  type RecoverEvent,
  type RemoveEvent,
  type SoftRemoveEvent,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
  type TransactionStartEvent,
  type UpdateEvent,
} from 'typeorm';
import { addCacheTags, type TagCache } from '../core/index.js';
import { currentScope } from '../core/tracking-scope.js';
import { hasCacheTags, tagsFor } from '../decorators/cache-tags.js';
import { isWrittenTable, mergeOrmOptions, resolveOrmOptions, writeTargetTable, type CacheTagsOrmOptions, type ResolvedOrmOptions } from '../orm/index.js';
import { heldCollectionTags } from './collections.js';
import { cascadeTags, junctionTags, rowTags, unknownRowTags } from './entity-tags.js';
import { installLazyLoadHook } from './lazy-loads.js';
import { Invalidator, type TypeOrmWriteSource } from './invalidator.js';
import { installQueryBuilderHooks } from './query-builder-hooks.js';
import { installQueryCacheHooks } from './query-cache.js';
import { entityRow, keyOf, reselect, rowsAfterUpdate, rowsByKeys, type Row } from './rows.js';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import { SUBSCRIBER_BRAND, isOrmStatement, persistContext, statementContext, takeDetachedRows, takeStatementWrite } from './write-context.js';

/**
 * Options of {@link CacheTagsSubscriber}: the options every ORM integration takes.
 * @public
 */
export type CacheTagsSubscriberOptions = CacheTagsOrmOptions;

type ChangeEvent = { queryRunner: QueryRunner; metadata: EntityMetadata };

function dataSourceOf(queryRunner: QueryRunner): DataSource {
  return (queryRunner as { dataSource?: DataSource }).dataSource ?? queryRunner.connection;
}

function source(operation: string, metadata: EntityMetadata): TypeOrmWriteSource {
  return { orm: 'typeorm', operation, entity: metadata.targetName || metadata.tableName };
}

type RowEvent = ChangeEvent & { entityId?: unknown; databaseEntity?: unknown; entity?: unknown };

/** The primary key of the row an event is about, as its before- and after-hook both see it. */
function identity(event: RowEvent): string | undefined {
  const source = event.databaseEntity ?? event.entity;
  const id = event.entityId ?? (source ? keyOf(event.metadata.primaryColumns, source) : undefined);
  if (id === undefined || (Array.isArray(id) && id.some((part) => part === undefined))) return undefined;
  return JSON.stringify([event.metadata.tableName, id]);
}

/** The old row from the event alone, when its `databaseEntity` has every column (else it must be read). */
function completeRows(event: RowEvent): Row[] | undefined {
  const { metadata, databaseEntity } = event;
  if (!databaseEntity || !metadata.columns.every((c) => c.getEntityValue(databaseEntity) !== undefined)) return undefined;
  return [entityRow(metadata, databaseEntity)];
}

/**
 * The TypeORM subscriber that invalidates, after each write, the tags of the rows it changed (old
 * and new values) and the entity's type-level tag: at once outside a transaction, once when the
 * outermost transaction ends inside one. It also adds the tags of entities loaded inside a
 * `@Cached` computation to that computation (tracked loads).
 *
 * `installCacheTags(dataSource, { cache })` adds it to a running DataSource; or list the class in
 * the DataSource's `subscribers` (it then uses the default cache, see `setDefaultTagCache`).
 * @public
 */
@EventSubscriber()
export class CacheTagsSubscriber implements EntitySubscriberInterface<any> {
  /** Where the invalidations go. */
  readonly invalidator: Invalidator;
  /** What before-hooks read for their after-hooks (old rows, a removal's tags), per query runner and row. */
  private readonly stashed = new WeakMap<QueryRunner, Map<string, unknown>>();
  /** How the query-builder hooks recognise a DataSource with cache-tags installed. */
  readonly [SUBSCRIBER_BRAND] = true;

  /** The options in force (defaults applied). */
  options: ResolvedOrmOptions;

  /** @throws CacheTagsError `E_INVALID_OPTION` naming the option that is wrong. */
  constructor(options: CacheTagsSubscriberOptions = {}) {
    this.options = resolveOrmOptions('CacheTagsSubscriber', options);
    this.invalidator = new Invalidator(this.options.cache, this.options.logger);
    installQueryBuilderHooks();
    installQueryCacheHooks();
    installLazyLoadHook();
  }

  /** Switches to the options given (checked as by the constructor); options not given keep their current values. */
  configure(options: CacheTagsOrmOptions, where = 'CacheTagsSubscriber.configure'): void {
    this.options = mergeOrmOptions(where, this.options, options);
    this.invalidator.cache = this.options.cache;
    this.invalidator.logger = this.options.logger;
  }

  /** The cache this subscriber invalidates. */
  get cache(): TagCache {
    return this.invalidator.resolveCache();
  }

  private record(event: ChangeEvent, tags: string[], operation: string): Promise<void> | undefined {
    return this.invalidator.record(event.queryRunner, tags, source(operation, event.metadata));
  }

  /** Old rows read before a query-builder write, new rows read after it (under their new key when the write SET it). */
  private async statementTags(event: ChangeEvent, write: { oldRows: Row[]; valuesSet: unknown; dependentTags: string[] }, reread: boolean): Promise<string[]> {
    const moved = reread ? rowsAfterUpdate(event.metadata, write.oldRows, write.valuesSet) : [];
    const newRows = moved ? await reselect(dataSourceOf(event.queryRunner), event.queryRunner, event.metadata, moved) : [];
    // Rows re-keyed by an SQL expression are not found again: what unknown rows invalidate stands in for them.
    const lost = moved ? [] : unknownRowTags(event.metadata);
    return [...new Set([...rowTags(event.metadata, [...write.oldRows, ...newRows]), ...lost, ...write.dependentTags])];
  }

  // Not async, as the after-hooks below: an insert or save in a transaction only buffers, and gets no promise for TypeORM to await.
  afterInsert(event: InsertEvent<any>): Promise<void> | undefined {
    const { metadata } = event;
    const ds = dataSourceOf(event.queryRunner);
    const link = event.entity ?? event.entityId;
    if (metadata.isJunction) {
      if (!link) return this.record(event, unknownRowTags(metadata), 'relation');
      return junctionTags(ds, event.queryRunner, metadata, [link]).then((tags) => this.record(event, tags, 'relation'));
    }
    const upsert = statementContext.getStore()?.write;
    if (upsert?.kind === 'upsert' && upsert.metadata === metadata && upsert.conflictColumns && event.entity) {
      return this.afterUpsert(event, upsert.conflictColumns, upsert.oldRows);
    }
    return this.record(event, rowTags(metadata, [entityRow(metadata, event.entity)]), 'insert');
  }

  /** The ids TypeORM reports for upserted rows are wrong on SQLite: the rows are found by their conflict keys. */
  private async afterUpsert(event: InsertEvent<any>, conflictColumns: ColumnMetadata[], oldRows: Row[]): Promise<void> {
    const { metadata } = event;
    const [row] = await rowsByKeys(dataSourceOf(event.queryRunner), event.queryRunner, metadata, conflictColumns, [keyOf(conflictColumns, event.entity)]);
    const key = row && JSON.stringify(keyOf(metadata.primaryColumns, row));
    const old = oldRows.filter((r) => JSON.stringify(keyOf(metadata.primaryColumns, r)) === key);
    return this.record(event, rowTags(metadata, [row ?? entityRow(metadata, event.entity), ...old]), 'upsert');
  }

  private stash(event: RowEvent, value: unknown): void {
    const key = identity(event);
    if (!key) return;
    let map = this.stashed.get(event.queryRunner);
    if (!map) this.stashed.set(event.queryRunner, (map = new Map()));
    map.set(key, value);
  }

  private unstash<T>(event: RowEvent): T | undefined {
    const key = identity(event);
    const map = key ? this.stashed.get(event.queryRunner) : undefined;
    const value = map?.get(key!);
    map?.delete(key!);
    return value as T | undefined;
  }

  /**
   * The complete old row: `save` re-selects only the relations it writes, so a partial
   * `databaseEntity` (a plain `{ id, title }` save) is completed from the database, before the write.
   */
  private async oldRows(event: RowEvent): Promise<Row[]> {
    const complete = completeRows(event);
    if (complete) return complete;
    const { metadata, databaseEntity } = event;
    const id = event.entityId ?? (databaseEntity ?? event.entity ? keyOf(metadata.primaryColumns, (databaseEntity ?? event.entity) as object) : undefined);
    if (id === undefined) return [];
    const key = typeof id === 'object' && id !== null && !Array.isArray(id) ? keyOf(metadata.primaryColumns, id) : ([] as unknown[]).concat(id);
    return rowsByKeys(dataSourceOf(event.queryRunner), event.queryRunner, metadata, metadata.primaryColumns, [key]);
  }

  beforeUpdate(event: UpdateEvent<any>): Promise<void> | undefined {
    if (!event.databaseEntity) return undefined;
    // TypeORM awaits what a hook returns: a save whose databaseEntity is complete (the usual) gets no promise.
    const complete = completeRows(event);
    if (complete) {
      this.stash(event, complete);
      return undefined;
    }
    return this.oldRows(event).then((rows) => this.stash(event, rows));
  }

  afterUpdate(event: UpdateEvent<any>): Promise<void> | undefined {
    const { metadata } = event;
    const write = !event.databaseEntity ? takeStatementWrite(metadata, ['update']) : undefined;
    if (write) return this.statementTags(event, write, true).then((tags) => this.record(event, tags, 'update'));
    if (event.databaseEntity) {
      const old = this.unstash<Row[]>(event) ?? [entityRow(metadata, event.databaseEntity)];
      return this.record(event, rowTags(metadata, [...old, entityRow(metadata, ...old, event.entity)]), 'update');
    }
    // An update TypeORM ran with no entity (an orphaned child being nullified): its rows were read before.
    const detached = event.entity ? [] : takeDetachedRows(metadata);
    if (detached.length === 0) return this.record(event, rowTags(metadata, []), 'update');
    return reselect(dataSourceOf(event.queryRunner), event.queryRunner, metadata, detached).then((newRows) => this.record(event, rowTags(metadata, [...detached, ...newRows]), 'update'));
  }

  async beforeRemove(event: RemoveEvent<any>): Promise<void> {
    if (event.metadata.isJunction || !identity(event)) return;
    const { metadata } = event;
    const stored = await this.oldRows(event);
    const rows = stored.length ? stored : [entityRow(metadata, event.entity)];
    const cascaded = await cascadeTags(dataSourceOf(event.queryRunner), event.queryRunner, metadata, stored, this.options.cascadeDepth);
    this.stash(event, [...rowTags(metadata, rows), ...cascaded]);
  }

  async afterRemove(event: RemoveEvent<any>): Promise<void> {
    const { metadata } = event;
    if (metadata.isJunction) {
      const link = event.entity ?? event.entityId;
      const write = link ? undefined : takeStatementWrite(metadata, ['delete']);
      const links = link ? [link] : (write?.oldRows ?? []);
      const tags = links.length ? await junctionTags(dataSourceOf(event.queryRunner), event.queryRunner, metadata, links) : unknownRowTags(metadata);
      return this.record(event, tags, 'relation');
    }
    const write = identity(event) ? undefined : takeStatementWrite(metadata, ['delete']);
    const tags = write
      ? await this.statementTags(event, write, false)
      : (this.unstash<string[]>(event) ?? rowTags(metadata, [event.databaseEntity ? entityRow(metadata, event.databaseEntity) : undefined]));
    return this.record(event, tags, 'remove');
  }

  async beforeSoftRemove(event: SoftRemoveEvent<any>): Promise<void> {
    if (identity(event)) this.stash(event, await this.oldRows(event));
  }

  async beforeRecover(event: RecoverEvent<any>): Promise<void> {
    if (identity(event)) this.stash(event, await this.oldRows(event));
  }

  afterSoftRemove(event: SoftRemoveEvent<any>): Promise<void> {
    return this.softChange(event, 'soft-delete', 'soft-remove');
  }

  afterRecover(event: RecoverEvent<any>): Promise<void> {
    return this.softChange(event, 'restore', 'recover');
  }

  private async softChange(event: SoftRemoveEvent<any> | RecoverEvent<any>, kind: 'soft-delete' | 'restore', operation: string): Promise<void> {
    const { metadata } = event;
    const write = identity(event) ? undefined : takeStatementWrite(metadata, [kind]);
    if (write) return this.record(event, await this.statementTags(event, write, true), operation);
    const old = this.unstash<Row[]>(event) ?? (event.databaseEntity ? [entityRow(metadata, event.databaseEntity)] : []);
    const updated = event.entity ? [entityRow(metadata, ...old, event.entity)] : await reselect(dataSourceOf(event.queryRunner), event.queryRunner, metadata, old);
    return this.record(event, rowTags(metadata, [...old, ...updated]), operation);
  }

  afterTransactionStart(event: TransactionStartEvent): void {
    const persist = persistContext.getStore();
    if (persist && !persist.transaction) persist.transaction = event.queryRunner;
  }

  // No promise: TypeORM awaits what it returns, and the hold's round trip is to overlap the commit's.
  beforeTransactionCommit(event: TransactionCommitEvent): void {
    this.invalidator.transactionCommitting(event.queryRunner);
  }

  afterTransactionCommit(event: TransactionCommitEvent): Promise<void> | undefined {
    return this.transactionEnded(event.queryRunner, 'commit');
  }

  afterTransactionRollback(event: TransactionRollbackEvent): Promise<void> | undefined {
    return this.transactionEnded(event.queryRunner, 'rollback');
  }

  private transactionEnded(queryRunner: QueryRunner, outcome: 'commit' | 'rollback'): Promise<void> | undefined {
    if (queryRunner.isTransactionActive) return undefined;
    // A write that failed between its before- and after-hook left its stash behind.
    this.stashed.delete(queryRunner);
    const ended = this.invalidator.transactionEnded(queryRunner, outcome);
    const persist = persistContext.getStore();
    if (!ended || persist?.transaction !== queryRunner) return ended;
    /*
     * The end of a transaction that a save (remove, ...) opened itself: the store round trip runs
     * while TypeORM releases the connection and unwinds, and the persist awaits it before it
     * resolves. Marked handled here: the persist attaches its own handlers only once TypeORM is done.
     */
    ended.catch(() => undefined);
    persist.ended = ended;
    return undefined;
  }

  /** Raw SQL reaches no entity hook: a write statement invalidates the type-level tags of its target table. */
  afterQuery(event: AfterQueryEvent): Promise<void> | undefined {
    // Runs after every statement, and TypeORM awaits what it returns: no promise unless there is a write to record.
    if (!event.success || statementContext.getStore() || isOrmStatement(event.query)) return undefined;
    const target = writeTargetTable(event.query);
    if (!target) return undefined;
    const written = dataSourceOf(event.queryRunner).entityMetadatas.filter((m) => isWrittenTable(target, m.tableName, m.schema));
    const tags = [...new Set(written.flatMap(unknownRowTags))];
    return tags.length ? this.invalidator.record(event.queryRunner, tags, { orm: 'typeorm', operation: 'raw-sql', entity: target.table }) : undefined;
  }

  /**
   * Tracked loads: an entity loaded inside a `@Cached` computation makes the computation depend on
   * its tags. Only entities loaded with every column (each many-to-one's FK included: the relation
   * loaded, or an FK column declared): the tags of a partial entity would be wrong.
   */
  afterLoad(entity: unknown, event?: LoadEvent<any>): void {
    if (!this.options.trackLoads || !currentScope() || persistContext.getStore() || !event?.metadata) return;
    const { metadata } = event;
    const collections = heldCollectionTags(metadata, entity as object);
    if (collections.length) addCacheTags(...collections);
    const target = metadata.target;
    if (typeof target !== 'function' || !(entity instanceof target) || !hasCacheTags(target)) return;
    if (!metadata.columns.every((column) => column.getEntityValue(entity) !== undefined)) return;
    const tags = tagsFor(entity, target as new () => unknown);
    if (tags.length) addCacheTags(...tags);
  }
}
