import { resolveTagCache, type TagCache } from '../core/index.js';

interface Buffered<Source> {
  tags: Set<string>;
  writes: Source[];
}

/**
 * Turns the tags of ORM writes into invalidations: at once for a write outside a transaction,
 * else buffered under the transaction and invalidated once when it ends (commit or rollback:
 * DESIGN.md invariant 5). The buffer is keyed by the object that identifies the transaction and
 * weakly held, so a transaction dropped without an end event takes its buffer with it. Not
 * TypeORM's `queryRunner.data`, which `save(..., { data })` swaps (shared/notes/orm-events.md §1).
 */
export class WriteInvalidator<Transaction extends object, Source> {
  private readonly buffers = new WeakMap<Transaction, Buffered<Source>>();

  /** `cache`: an instance, a registered name, or the default cache (looked up at each write). */
  constructor(public cache: TagCache | string | undefined) {}

  resolveCache(): TagCache {
    return resolveTagCache(this.cache);
  }

  /** Invalidates `tags` now when `transaction` is undefined, else when it ends. */
  async record(transaction: Transaction | undefined, tags: readonly string[], source: Source): Promise<void> {
    if (tags.length === 0) return;
    if (!transaction) {
      await this.resolveCache().invalidateTags([...tags], source);
      return;
    }
    let buffer = this.buffers.get(transaction);
    if (!buffer) this.buffers.set(transaction, (buffer = { tags: new Set(), writes: [] }));
    for (const tag of tags) buffer.tags.add(tag);
    buffer.writes.push(source);
  }

  /** Invalidates once what `transaction` buffered; `source` describes the end from its writes. */
  async end(transaction: Transaction, source: (writes: Source[]) => unknown): Promise<void> {
    const buffer = this.buffers.get(transaction);
    this.buffers.delete(transaction);
    if (buffer && buffer.tags.size > 0) await this.resolveCache().invalidateTags([...buffer.tags], source(buffer.writes));
  }
}
