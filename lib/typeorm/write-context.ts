import { AsyncLocalStorage } from 'node:async_hooks';
import type { EntityMetadata, QueryRunner } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import type { ResolvedOrmOptions } from '../orm/index.js';
import type { TagCache } from '../core/index.js';
import type { Row } from './rows.js';

/**
 * What a query-builder write read before it ran, for the subscriber's after-hook of the same
 * statement: TypeORM gives that hook no WHERE and no ids.
 */
export interface StatementWrite {
  kind: 'update' | 'delete' | 'soft-delete' | 'restore' | 'upsert';
  metadata: EntityMetadata;
  /** The SET object, which the update hook receives as its entity: tells this statement's hook apart. */
  valuesSet: unknown;
  /** The rows the statement's WHERE matched (for an upsert: the rows its conflict keys matched). */
  oldRows: Row[];
  /** Tags of rows the database deletes or detaches by itself (`ON DELETE CASCADE` / `SET NULL`). */
  dependentTags: string[];
  /** The conflict columns of an upsert. */
  conflictColumns?: ColumnMetadata[];
  consumed?: boolean;
}

/** Set while an ORM query builder executes: its SQL is not raw SQL. */
export interface StatementContext {
  write?: StatementWrite;
}

/** Set while `save`/`remove`/`softRemove`/`recover` persist entities. */
export interface PersistContext {
  /** Rows of updates that TypeORM runs with no entity (orphaned one-to-many children, nullified). */
  detached: { metadata: EntityMetadata; rows: Row[] }[];
  /** The transaction the persist opened itself: the first one started while it runs. */
  transaction?: QueryRunner;
  /** The invalidation of that transaction's end, which the persist awaits before it resolves. */
  ended?: Promise<void>;
}

/** Marks the subscriber instances of this copy of the module. */
export const SUBSCRIBER_BRAND = Symbol('cache-tags typeorm subscriber');

/** What the query-builder and query-cache hooks read of a branded subscriber. */
export interface BrandedSubscriber {
  readonly [SUBSCRIBER_BRAND]: true;
  readonly options: ResolvedOrmOptions;
  /** The cache its writes invalidate, where cached queries are stored. */
  readonly cache: TagCache;
}

export const statementContext = new AsyncLocalStorage<StatementContext>();
export const persistContext = new AsyncLocalStorage<PersistContext>();

/** The pre-read of the query-builder statement whose after-hook this is, once. */
export function takeStatementWrite(metadata: EntityMetadata, kinds: readonly StatementWrite['kind'][]): StatementWrite | undefined {
  const write = statementContext.getStore()?.write;
  if (!write || write.consumed || write.metadata !== metadata || !kinds.includes(write.kind)) return undefined;
  write.consumed = true;
  return write;
}

/** The rows of entity-less updates of `metadata` recorded during the running persist, once. */
export function takeDetachedRows(metadata: EntityMetadata): Row[] {
  const persist = persistContext.getStore();
  if (!persist) return [];
  const rows = persist.detached.filter((d) => d.metadata === metadata).flatMap((d) => d.rows);
  persist.detached = persist.detached.filter((d) => d.metadata !== metadata);
  return rows;
}

/*
 * The mysql2 driver reports a statement's afterQuery from its socket callback, outside the async
 * context of the query builder that ran it, so `statementContext` cannot tell an ORM statement from
 * raw SQL there. The SQL text of the ORM statements in flight can: a raw statement that repeats an
 * in-flight ORM statement word for word writes the same table that statement already invalidates.
 */
const inFlight = new Map<string, number>();

/** Whether the driver of `type` reports afterQuery outside the caller's async context. */
export function losesQueryContext(type: string): boolean {
  return type === 'mysql' || type === 'mariadb' || type === 'aurora-mysql';
}

/** Runs `statement`, marking `sql` as an ORM statement while it runs. */
export async function asOrmStatement<T>(sql: string, statement: () => Promise<T>): Promise<T> {
  inFlight.set(sql, (inFlight.get(sql) ?? 0) + 1);
  try {
    return await statement();
  } finally {
    const left = inFlight.get(sql)! - 1;
    if (left === 0) inFlight.delete(sql);
    else inFlight.set(sql, left);
  }
}

/** Whether `sql` is the text of an ORM statement running now. */
export function isOrmStatement(sql: string): boolean {
  // TypeORM 0.3 adds MariaDB's RETURNING clause while it executes, after the SQL was marked.
  return inFlight.size > 0 && (inFlight.has(sql) || inFlight.has(sql.replace(/\s+RETURNING\s[\s\S]*$/i, '')));
}
