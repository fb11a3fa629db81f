import type { TagCacheEvents } from './events.js';

/**
 * What one {@link TagCache} counted since it was created or last reset (`stats({ reset: true })`).
 * Every field is a count of events, except `pendingInvalidations` (the number now) and `since`.
 * @public
 */
export interface TagCacheStats {
  /** When counting started: creation or the last reset (ms since epoch). */
  since: number;
  /** Lookups (`get`, `wrap`) that served a valid entry. */
  hits: number;
  /** Of `hits`, those the near cache served without a store round trip (0 without `nearCache`). */
  nearHits: number;
  /** Lookups that found no valid entry, by why (the reasons of the `miss` event). */
  misses: {
    /** No entry under the key (never stored, expired or evicted). */
    absent: number;
    /** The entry carries an older version of one of its tags, or a tag whose invalidation is pending. */
    invalidated: number;
    /** The entry could not be decoded or deserialized (a bad entry is a miss for its key alone). */
    undecodable: number;
    /** The store did not answer (error, timeout or open circuit); the source ran without it. */
    storeUnavailable: number;
  };
  /** Computed values (and `set` calls) written to the store. */
  stored: number;
  /** Computed values returned to their caller but not stored, by why (the reasons of the `stale` event). */
  notStored: {
    /** A tag learned during the computation was invalidated after it began (the race guarantee). */
    invalidatedDuringComputation: number;
    /** Nested cached calls brought two different versions of one tag. */
    mixedVersions: number;
    /** One of its tags has an invalidation this process has not had acknowledged yet. */
    invalidationPending: number;
    /** The store did not answer while the versions were read or minted. */
    storeUnavailable: number;
    /** Its `resultTags` function threw or returned something that is not a list of tags. */
    resultTagsFailed: number;
  };
  /** Concurrent `wrap` calls for one key in this process (single flight). */
  singleFlight: {
    /** Calls that joined a run in progress instead of starting their own. */
    joined: number;
    /** Joined calls whose shared value could not be proven current, so they ran again by themselves. */
    reran: number;
  };
  /** The cross-process single flight (`lock`), of calls that missed with it on. */
  lock: {
    /** Calls that took the lock and computed. */
    led: number;
    /** Calls that found the lock taken by another process (or cache) and waited. */
    waited: number;
    /** Waiting calls served the value another process stored (a hit, judged like any other). */
    served: number;
    /** Waiting calls that computed by themselves after `waitMs`. */
    timedOut: number;
  };
  /** `invalidateTags` calls (ORM writes included). */
  invalidations: {
    /** Calls with at least one tag. */
    calls: number;
    /** Tags they invalidated (each call's distinct tags). */
    tags: number;
    /** Calls the store did not acknowledge within `invalidationTimeoutMs` (left pending, retried). */
    unacknowledged: number;
  };
  /** Tags whose invalidation waits for a retry now (a gauge, never reset). */
  pendingInvalidations: number;
  /** Store calls that failed or timed out, by operation. */
  storeErrors: {
    read: number;
    write: number;
    delete: number;
    mint: number;
    invalidate: number;
    /** Taking or freeing a lock (`lock`). */
    lock: number;
  };
}

/*
 * Plain integer fields, bumped in place: the hit path pays one increment, no lookup and no
 * allocation. The nested public shape is built only when someone asks for it.
 */
export class CacheCounters {
  since = Date.now();
  hits = 0;
  nearHits = 0;
  missAbsent = 0;
  missInvalidated = 0;
  missUndecodable = 0;
  missStoreUnavailable = 0;
  stored = 0;
  notStoredInvalidated = 0;
  notStoredMixed = 0;
  notStoredPending = 0;
  notStoredStoreUnavailable = 0;
  notStoredResultTags = 0;
  joined = 0;
  reran = 0;
  lockLed = 0;
  lockWaited = 0;
  lockServed = 0;
  lockTimedOut = 0;
  invalidationCalls = 0;
  invalidatedTags = 0;
  unacknowledged = 0;
  readErrors = 0;
  writeErrors = 0;
  deleteErrors = 0;
  mintErrors = 0;
  invalidateErrors = 0;
  lockErrors = 0;

  miss(reason: TagCacheEvents['miss']['reason']): void {
    if (reason === 'absent') this.missAbsent++;
    else if (reason === 'invalidated') this.missInvalidated++;
    else if (reason === 'undecodable') this.missUndecodable++;
    else this.missStoreUnavailable++;
  }

  notStored(reason: TagCacheEvents['stale']['reason']): void {
    if (reason === 'invalidated-during-computation') this.notStoredInvalidated++;
    else if (reason === 'mixed-versions') this.notStoredMixed++;
    else if (reason === 'invalidation-pending') this.notStoredPending++;
    else if (reason === 'result-tags-failed') this.notStoredResultTags++;
    else this.notStoredStoreUnavailable++;
  }

  /** Counts a failed store call; `decode`/`deserialize` reports are bad entries, counted as misses. */
  storeError(operation: string): void {
    if (operation === 'read') this.readErrors++;
    else if (operation === 'write') this.writeErrors++;
    else if (operation === 'delete') this.deleteErrors++;
    else if (operation === 'mint') this.mintErrors++;
    else if (operation === 'invalidate') this.invalidateErrors++;
    else if (operation === 'lock' || operation === 'unlock') this.lockErrors++;
  }

  snapshot(pendingInvalidations: number): TagCacheStats {
    return {
      since: this.since,
      hits: this.hits,
      nearHits: this.nearHits,
      misses: { absent: this.missAbsent, invalidated: this.missInvalidated, undecodable: this.missUndecodable, storeUnavailable: this.missStoreUnavailable },
      stored: this.stored,
      notStored: {
        invalidatedDuringComputation: this.notStoredInvalidated,
        mixedVersions: this.notStoredMixed,
        invalidationPending: this.notStoredPending,
        storeUnavailable: this.notStoredStoreUnavailable,
        resultTagsFailed: this.notStoredResultTags,
      },
      singleFlight: { joined: this.joined, reran: this.reran },
      lock: { led: this.lockLed, waited: this.lockWaited, served: this.lockServed, timedOut: this.lockTimedOut },
      invalidations: { calls: this.invalidationCalls, tags: this.invalidatedTags, unacknowledged: this.unacknowledged },
      pendingInvalidations,
      storeErrors: { read: this.readErrors, write: this.writeErrors, delete: this.deleteErrors, mint: this.mintErrors, invalidate: this.invalidateErrors, lock: this.lockErrors },
    };
  }

  reset(): void {
    Object.assign(this, new CacheCounters());
  }
}
