import type { CacheParts } from './cache-parts.js';
import type { TagCacheEvents } from './events.js';

/*
 * What the read path reports, one call per outcome: its counter, its event (built only when
 * listened to) and, for a value not stored, its debug line. None of them is on the hit path.
 */

/** A lookup found no valid entry. */
export function recordMiss(parts: CacheParts, key: string, reason: TagCacheEvents['miss']['reason']): void {
  parts.counters.miss(reason);
  if (parts.events.has('miss')) parts.events.emit('miss', { key, reason });
}

/** A computed value was returned to its caller but not stored. */
export function recordNotStored(parts: CacheParts, key: string, reason: TagCacheEvents['stale']['reason'], error?: unknown): void {
  parts.counters.notStored(reason);
  if (parts.events.has('stale')) parts.events.emit('stale', error === undefined ? { key, reason } : { key, reason, error });
  if (parts.log.debugs) parts.log.debug(`cache-tags: the value of "${key}" in namespace "${parts.namespace}" was not stored: ${reason}`);
}

/** A value was written to the store. */
export function recordStored(parts: CacheParts, key: string, tags: string[], ttl: number | undefined): void {
  parts.counters.stored++;
  if (parts.events.has('set')) parts.events.emit('set', { key, tags, ttl });
}
