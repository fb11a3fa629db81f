import type { QueryRunner } from 'typeorm';
import { WriteInvalidator, takeTagFailures, type WriteFailures } from '../orm/index.js';

/**
 * The write that caused an invalidation, as the `invalidate` event's `source` reports it.
 * @public
 */
export interface TypeOrmWriteSource extends WriteFailures {
  orm: 'typeorm';
  /** `insert`, `update`, `remove`, `soft-remove`, `recover`, `upsert`, `relation`, `raw-sql`, or at a transaction's end `commit` / `rollback`. */
  operation: string;
  /** The entity (or junction table) written; absent at a transaction's end. */
  entity?: string;
  /** At a transaction's end: the writes whose tags it invalidated. */
  writes?: TypeOrmWriteSource[];
}

/** Buffers per query runner while it has a transaction open; savepoints do not end it. */
export class Invalidator extends WriteInvalidator<QueryRunner, TypeOrmWriteSource> {
  /** Records the tags of a write made through `queryRunner`. */
  override record(queryRunner: QueryRunner | undefined, tags: readonly string[], source: TypeOrmWriteSource): Promise<void> | undefined {
    // Tag functions that failed in this statement's or persist's hooks so far are reported with it.
    return super.record(queryRunner?.isTransactionActive ? queryRunner : undefined, tags, source, takeTagFailures());
  }

  /**
   * Called before every commit; only the outermost one (no savepoint left) holds. The depth is a
   * protected field of TypeORM's query runners (it is what they choose COMMIT or RELEASE SAVEPOINT
   * by); a runner without it gets no hold, and its end awaits the invalidation.
   */
  transactionCommitting(queryRunner: QueryRunner): void {
    if ((queryRunner as unknown as { transactionDepth?: unknown }).transactionDepth === 1) this.committing(queryRunner);
  }

  /** Called by every transaction end; only the outermost one (no savepoint left) flushes. */
  transactionEnded(queryRunner: QueryRunner, outcome: 'commit' | 'rollback'): Promise<void> | undefined {
    if (queryRunner.isTransactionActive) return undefined;
    return this.end(queryRunner, (writes) => ({ orm: 'typeorm', operation: outcome, writes }) satisfies TypeOrmWriteSource);
  }
}
