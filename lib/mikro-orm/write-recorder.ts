import { getDefaultTagCache, getTagCache } from '../core/cache-registry.js';
import { TagCache } from '../core/tag-cache.js';
import { TransactionBuffers } from '../orm/index.js';

/** What an `invalidate` event's `source` says about a MikroORM write. */
export interface MikroOrmWriteSource {
  orm: 'mikro-orm';
  /** The write that caused it: `flush`, `nativeUpdate`, `qb.update`, `execute`, `commit`, `rollback`, ... */
  operation: string;
  /** The entity written, when there is one. */
  entity?: string;
}

/*
 * MikroORM 6 marks a savepoint with a private symbol that points at the enclosing transaction; the
 * root is the one without it. The description is the only handle on the symbol (it is not exported).
 */
function parentOf(trx: object): object | undefined {
  for (const symbol of Object.getOwnPropertySymbols(trx)) {
    if (symbol.description === 'parentTransaction') return (trx as Record<symbol, object | undefined>)[symbol];
  }
  return undefined;
}

/** The outermost transaction a (savepoint) transaction belongs to. */
export function rootTransaction(trx: object): object {
  let current = trx;
  for (let parent = parentOf(current); parent && parent !== current; parent = parentOf(current)) current = parent;
  return current;
}

/**
 * Where the tags of MikroORM writes go: straight to the cache when no transaction is open, else to
 * the buffer of the outermost transaction, bumped once when it ends (commit and rollback alike).
 */
export class WriteRecorder {
  private readonly buffers = new TransactionBuffers<object>();

  constructor(readonly cacheOption: TagCache | string | undefined) {}

  /** The cache the tags are invalidated in, resolved on each use so it may be registered later. */
  cache(): TagCache {
    const option = this.cacheOption;
    return option instanceof TagCache ? option : option ? getTagCache(option) : getDefaultTagCache();
  }

  /** Invalidates `tags` now (no transaction) or when the outermost transaction of `trx` ends. */
  async record(trx: object | undefined, tags: readonly string[], source: MikroOrmWriteSource): Promise<void> {
    if (tags.length === 0) return;
    if (trx) this.buffers.add(rootTransaction(trx), tags);
    else await this.cache().invalidateTags([...tags], source);
  }

  /** Bumps what the transaction buffered; called when a root transaction commits or rolls back. */
  async end(trx: object | undefined, operation: 'commit' | 'rollback'): Promise<void> {
    if (!trx) return;
    const tags = this.buffers.take(rootTransaction(trx));
    if (tags.length > 0) await this.cache().invalidateTags(tags, { orm: 'mikro-orm', operation } satisfies MikroOrmWriteSource);
  }
}
