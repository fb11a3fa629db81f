import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CacheParts, Outcome } from './cache-parts.js';
import { isHit, lookup, type Found, type Miss } from './lookup.js';
import type { LockSettings } from './options.js';
import { randomPart } from './tokens.js';

/*
 * How long a waiter sleeps between two looks at the lock, in ms: 5, then 1.5 times longer each time
 * up to 50. A waiter learns that the lock is free at most ~50 ms late, for one GET of one key per
 * look (about 20 a second per waiting process once at the cap).
 */
const FIRST_POLL_MS = 5;
const POLL_GROWTH = 1.5;
const MAX_POLL_MS = 50;

const same = <T>(found: T): T => found;

/**
 * One computation of a missing entry across the processes that share the store (`lock`). After
 * `miss`, the caller takes the entry's lock in the store (`SET NX PX`) and computes with
 * `computeWith`; a caller that finds it taken waits, looking at the lock with backoff, until it is
 * freed (or expires: its holder may have crashed), then looks the entry up: a hit, judged like any
 * other, is served; a miss (the holder's value was not stored: invalidated meanwhile, or it failed)
 * makes it try the lock again. Past `waitMs` it looks up once more and computes by itself. A store
 * that does not answer never fails a call: the caller computes, as without the lock.
 */
export async function computeOnce(
  parts: CacheParts,
  key: string,
  entryKey: string,
  declared: readonly string[],
  lock: LockSettings,
  miss: Miss,
  computeWith: (miss: Miss | undefined) => Promise<Outcome>,
): Promise<Outcome> {
  const { gateway, counters } = parts;
  const lockKey = parts.keys.lock(key);
  const token = randomPart();
  const deadline = performance.now() + lock.waitMs;
  let found: Miss = miss;
  let waited = false;
  for (;;) {
    const taken = await gateway.lock(lockKey, token, lock.ttlMs);
    if (taken === undefined) return computeWith(found);
    if (taken) {
      counters.lockLed++;
      try {
        return await computeWith(found);
      } finally {
        gateway.unlock(lockKey, token);
      }
    }
    if (!waited) counters.lockWaited++;
    waited = true;
    const freed = await freedBefore(parts, lockKey, deadline);
    const after: Found = await lookup(parts, key, entryKey, declared, true, same);
    if (!after) return computeWith(undefined);
    if (isHit(after)) {
      counters.hits++;
      counters.lockServed++;
      return after;
    }
    if (!freed) {
      counters.lockTimedOut++;
      return computeWith(after);
    }
    found = after;
  }
}

/**
 * Whether the lock `lockKey` was freed (or the store stopped answering, which ends the wait too)
 * before `deadline`, looking at it with backoff: each look is one read of one key.
 */
async function freedBefore(parts: CacheParts, lockKey: string, deadline: number): Promise<boolean> {
  for (let pause = FIRST_POLL_MS; ; pause = Math.min(POLL_GROWTH * pause, MAX_POLL_MS)) {
    const left = deadline - performance.now();
    if (left <= 0) return false;
    await sleep(Math.min(pause, left));
    const rows = await parts.gateway.read([lockKey]);
    if (!rows || rows[0] === undefined) return true;
  }
}
