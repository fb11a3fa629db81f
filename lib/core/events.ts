/**
 * Payloads of the events a {@link TagCache} emits, by event name.
 * @public
 */
export interface TagCacheEvents {
  /** A valid entry was served. */
  hit: { key: string; tags: string[] };
  /** No valid entry: the source runs. `reason` says why the entry was not served. */
  miss: { key: string; reason: 'absent' | 'invalidated' | 'undecodable' | 'store-unavailable' };
  /** A computed value was stored. */
  set: { key: string; tags: string[]; ttl: number | undefined };
  /** A computed value was returned but not stored (or a `set` value not taken), because it may already be stale, or its `resultTags` function failed (`error`). */
  stale: { key: string; reason: 'invalidated-during-computation' | 'mixed-versions' | 'invalidation-pending' | 'store-unavailable' | 'result-tags-failed'; error?: unknown };
  /** Tags were invalidated. `source` describes the write that caused it, when known. */
  invalidate: { tags: string[]; source?: unknown; deferred: boolean };
  /** A store operation failed or timed out; the cache carried on without the store. */
  error: { operation: string; error: unknown };
}

/** @public */
export type TagCacheEventName = keyof TagCacheEvents;

type Listener<E extends TagCacheEventName> = (payload: TagCacheEvents[E]) => void;

/*
 * Not node:events: an 'error' event without a listener must never throw into a request, and a
 * throwing listener must not break the cache.
 */
export class TypedEmitter {
  private readonly listeners = new Map<TagCacheEventName, Set<Listener<any>>>();

  on<E extends TagCacheEventName>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<E extends TagCacheEventName>(event: E, listener: Listener<E>): void {
    this.listeners.get(event)?.delete(listener);
  }

  has(event: TagCacheEventName): boolean {
    return (this.listeners.get(event)?.size ?? 0) > 0;
  }

  emit<E extends TagCacheEventName>(event: E, payload: TagCacheEvents[E]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of set) {
      try {
        listener(payload);
      } catch {
        // A listener is for observation; its failure must not change what the cache does.
      }
    }
  }
}
