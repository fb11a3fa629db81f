import { resolveTagCache, type CacheTagsLogger, type TagCache, type TagHold } from '../core/index.js';
import { levels } from '../core/log.js';
import type { TagFunctionFailure } from './tag-failures.js';

interface Buffered<Source> {
  tags: Set<string>;
  writes: Source[];
  /** The hold written just before the commit, and how many of the tags it covers. */
  hold?: { handle: TagHold; covers: number };
}

/** What every integration's write source may carry besides its own fields. */
export interface WriteFailures {
  /** Tag functions that failed for rows of this write: those rows were invalidated by their type-level tags only. */
  tagFunctionFailures?: TagFunctionFailure[];
}

/**
 * Turns the tags of ORM writes into invalidations: at once for a write outside a transaction,
 * else buffered under the transaction and invalidated once when it ends (commit or rollback,
 * docs/orm-contract.md, "Transactions"). The buffer is keyed by the object that identifies the
 * transaction and weakly held, so a transaction dropped without an end event takes its buffer
 * with it. Not TypeORM's `queryRunner.data`, which `save(..., { data })` swaps.
 */
export class WriteInvalidator<Transaction extends object, Source extends WriteFailures> {
  private readonly buffers = new WeakMap<Transaction, Buffered<Source>>();

  /** `cache`: an instance, a registered name, or the default cache (looked up at each write). */
  constructor(
    public cache: TagCache | string | undefined,
    public logger?: CacheTagsLogger,
  ) {}

  resolveCache(): TagCache {
    return resolveTagCache(this.cache);
  }

  /**
   * Invalidates `tags` now when `transaction` is undefined, else when it ends. `failures` (tag
   * functions that threw for rows of this write) are reported now, at `error` level, and travel
   * with the write's `source`; the write itself goes on. Returns the invalidation to await, or
   * nothing when there is none yet (buffered): the ORMs await what their hooks return, a promise
   * costing every write in a transaction a few hops for nothing.
   */
  record(transaction: Transaction | undefined, tags: readonly string[], source: Source, failures: readonly TagFunctionFailure[] = []): Promise<void> | undefined {
    if (failures.length > 0) source = this.reportFailures(source, failures);
    if (tags.length === 0) return undefined;
    if (!transaction) return this.resolveCache().invalidateTags([...tags], source);
    let buffer = this.buffers.get(transaction);
    if (!buffer) this.buffers.set(transaction, (buffer = { tags: new Set(), writes: [] }));
    for (const tag of tags) buffer.tags.add(tag);
    buffer.writes.push(source);
    return undefined;
  }

  /**
   * Holds what `transaction` buffered, just before its commit is sent (docs/orm-contract.md,
   * "Transactions"): the end's invalidation then needs no round trip of its own after the commit.
   */
  committing(transaction: Transaction): void {
    const buffer = this.buffers.get(transaction);
    if (!buffer || buffer.tags.size === 0) return;
    buffer.hold = { handle: this.resolveCache().holdTags([...buffer.tags]), covers: buffer.tags.size };
  }

  /**
   * Invalidates once what `transaction` buffered; `source` describes the end from its writes, and
   * carries the tag-function failures of all of them.
   */
  end(transaction: Transaction, source: (writes: Source[]) => object): Promise<void> | undefined {
    const buffer = this.buffers.get(transaction);
    this.buffers.delete(transaction);
    // Nothing buffered, no promise: the ORM awaits what its transaction hooks return.
    if (!buffer || buffer.tags.size === 0) return undefined;
    const failures = buffer.writes.flatMap((write) => write.tagFunctionFailures ?? []);
    const end = failures.length > 0 ? { ...source(buffer.writes), tagFunctionFailures: failures } : source(buffer.writes);
    // The tags only grow: a hold that covers as many covers them all.
    if (buffer.hold?.covers === buffer.tags.size) return buffer.hold.handle.invalidate(end);
    return this.resolveCache().invalidateTags([...buffer.tags], end);
  }

  private reportFailures(source: Source, failures: readonly TagFunctionFailure[]): Source {
    const { error } = levels(this.logger);
    for (const failure of failures) {
      error(`cache-tags: the @CacheTags function of ${failure.entity} failed during a write; its rows were invalidated by the type-level tag "${failure.entity}" only`, failure.error);
    }
    return { ...source, tagFunctionFailures: [...(source.tagFunctionFailures ?? []), ...failures] };
  }
}
