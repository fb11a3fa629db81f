import type { QueryRunner } from 'typeorm';
import { getDefaultTagCache, getTagCache, TagCache } from '../core/index.js';
import { TransactionBuffers } from '../orm/index.js';

/**
 * The write that caused an invalidation, as the `invalidate` event's `source` reports it.
 * @public
 */
export interface TypeOrmWriteSource {
  orm: 'typeorm';
  /** `insert`, `update`, `remove`, `soft-remove`, `recover`, `upsert`, `relation`, `raw-sql`, or at a transaction's end `commit` / `rollback`. */
  operation: string;
  /** The entity (or junction table) written; absent at a transaction's end. */
  entity?: string;
  /** At a transaction's end: the writes whose tags it invalidated. */
  writes?: TypeOrmWriteSource[];
}

/**
 * Turns write tags into invalidations: now when the write ran outside a transaction, else once
 * when the outermost transaction of its query runner ends (commit or rollback alike).
 */
export class Invalidator {
  private readonly buffers = new TransactionBuffers<QueryRunner>();
  private readonly sources = new WeakMap<QueryRunner, TypeOrmWriteSource[]>();

  constructor(public cache: TagCache | string | undefined) {}

  /** The cache now: a name or the default are looked up per call, so they may be set after start-up. */
  resolveCache(): TagCache {
    if (this.cache instanceof TagCache) return this.cache;
    return this.cache ? getTagCache(this.cache) : getDefaultTagCache();
  }

  async record(queryRunner: QueryRunner | undefined, tags: string[], source: TypeOrmWriteSource): Promise<void> {
    if (tags.length === 0) return;
    if (queryRunner?.isTransactionActive) {
      this.buffers.add(queryRunner, tags);
      const sources = this.sources.get(queryRunner) ?? [];
      sources.push(source);
      this.sources.set(queryRunner, sources);
      return;
    }
    await this.resolveCache().invalidateTags(tags, source);
  }

  /** Called by every transaction end; only the outermost one (no savepoint left) flushes. */
  async transactionEnded(queryRunner: QueryRunner, outcome: 'commit' | 'rollback'): Promise<void> {
    if (queryRunner.isTransactionActive) return;
    const tags = this.buffers.take(queryRunner);
    const writes = this.sources.get(queryRunner) ?? [];
    this.sources.delete(queryRunner);
    if (tags.length > 0) await this.resolveCache().invalidateTags(tags, { orm: 'typeorm', operation: outcome, writes } satisfies TypeOrmWriteSource);
  }
}
