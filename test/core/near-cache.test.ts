/*
 * The near cache (docs/near-cache.md): an in-process tier in front of Redis that serves only while
 * its invalidation channel has proven, less than maxLagMs ago, that it delivered every invalidation.
 * Readers run in processes of their own (test/support/near-cache-reader.ts) while this process writes;
 * every read is judged by the writes that had returned when it started.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { CacheTagsError, TagCache } from '../../lib/index.js';
import { NearCache } from '../../lib/core/near-cache.js';
import { orderedToken } from '../../lib/core/tokens.js';
import { runNearCacheReaders } from '../support/near-cache-staleness.js';
import { OwnRedis, eventually } from '../support/redis-server.js';
import { REDIS_URL, needs } from '../support/servers.js';

const MAX_LAG_MS = 50;
let run = 0;
const namespace = (): string => `near-${process.pid}-${run++}`;

/** Reads until the near cache served one (its channel confirmed, the entry and versions held). */
const untilNearHit = (cache: TagCache, read: () => Promise<unknown>): Promise<void> =>
  eventually(async () => {
    await read();
    return cache.stats().nearHits > 0;
  }, 'the near cache serves');

describe('Near cache options', () => {
  it('is refused, naming the option, with a store that does not publish its invalidations', () => {
    for (const store of [undefined, new Map(), { cluster: { rootNodes: ['redis://127.0.0.1:7000'] } }]) {
      assert.throws(() => new TagCache({ store, nearCache: true }), (error: unknown) => error instanceof CacheTagsError && error.code === 'E_INVALID_OPTION' && /nearCache needs a redis:\/\/ URL/.test(error.message));
    }
  });

  it('refuses a bad maxLagMs or maxEntries', () => {
    for (const nearCache of [{ maxLagMs: 0 }, { maxLagMs: -1 }, { maxEntries: 0 }, 'yes']) {
      assert.throws(() => new TagCache({ store: REDIS_URL, nearCache: nearCache as never }), /nearCache/);
    }
  });
});

describe('Near cache versions', () => {
  const synced = (): NearCache => {
    const near = new NearCache({ maxEntries: 100, maxLagMs: 1000 });
    near.confirmed(0);
    return near;
  };

  it('a read that lands after a newer invalidation message never puts the older version back', () => {
    const near = synced();
    const mark = near.mark();
    near.applied(orderedToken(20), ['{ns}:t:A']);
    near.remember(['{ns}:t:A'], [JSON.stringify({ value: orderedToken(10) })], mark);
    assert.match(near.token('{ns}:t:A')!, /^!20\./);
  });

  it('a read that overlapped the forgetting of a version does not fill the gap; a later read does', () => {
    const near = synced();
    const row = JSON.stringify({ value: orderedToken(10) });
    const mark = near.mark();
    near.forgetTags(['{ns}:t:A']);
    near.remember(['{ns}:t:A'], [row], mark);
    assert.equal(near.token('{ns}:t:A'), undefined);
    near.remember(['{ns}:t:A'], [row], near.mark());
    assert.match(near.token('{ns}:t:A')!, /^!10\./);
  });

  it('a read that overlapped a write of this process does not bring the old entry back', () => {
    const near = synced();
    const mark = near.mark();
    near.dropEntries(['ns:e:k']);
    near.remember(['ns:e:k'], ['{"value":{"v":1,"t":{},"a":0}}'], mark);
    assert.equal(near.entry('ns:e:k'), undefined);
  });

  it('holds nothing learned before the channel was confirmed, and stops serving when it is lost', () => {
    const near = new NearCache({ maxEntries: 100, maxLagMs: 60_000 });
    near.remember(['{ns}:t:A'], [JSON.stringify({ value: orderedToken(10) })], near.mark());
    assert.equal(near.token('{ns}:t:A'), undefined);
    assert.equal(near.serving(), false);
    near.confirmed(performance.now());
    assert.equal(near.serving(), true);
    near.lost();
    assert.equal(near.serving(), false);
  });
});

describe('Near cache on Redis', needs('redis'), () => {
  it('serves hits without a round trip, and never serves this process an entry it invalidated, once invalidateTags returned', async () => {
    const ns = namespace();
    const cache = new TagCache({ store: REDIS_URL, namespace: ns, nearCache: { maxLagMs: 200 } });
    try {
      let version = 0;
      const read = () => cache.wrap('k', () => version, { tags: ['T'] });
      await untilNearHit(cache, read);
      for (let i = 0; i < 20; i++) {
        version++;
        await cache.invalidateTags(['T']);
        const before = cache.stats().nearHits;
        for (let j = 0; j < 3; j++) assert.equal(await read(), version);
        // The miss's write dropped the entry here, the hit after it brought it back.
        assert.equal(cache.stats().nearHits - before, 1);
      }
    } finally {
      await cache.close();
    }
  });

  it('set and delete in another cache reach the near cache: the entry it held is dropped, although its tags did not change', async () => {
    const ns = namespace();
    const reader = new TagCache({ store: REDIS_URL, namespace: ns, nearCache: { maxLagMs: 200 } });
    const writer = new TagCache({ store: REDIS_URL, namespace: ns });
    try {
      await writer.set('k', 1, { tags: ['T'] });
      await untilNearHit(reader, () => reader.get('k'));
      await writer.set('k', 2, { tags: ['T'] });
      await eventually(async () => (await reader.get('k')) === 2, 'the reader gets the value set');
      await writer.delete('k');
      await eventually(async () => (await reader.get('k')) === undefined, 'the reader misses the deleted entry');
    } finally {
      await reader.close();
      await writer.close();
    }
  });

  it('in other processes: no read that starts more than maxLagMs after a write returned gets the older value', async () => {
    const result = await runNearCacheReaders({ url: REDIS_URL, namespace: namespace(), readers: 2, runMs: 1500, maxLagMs: MAX_LAG_MS });
    assert.ok(result.nearHits > result.reads / 4, `near hits ${result.nearHits} of ${result.reads} reads`);
    assert.ok(result.writes > 20, `writes: ${result.writes}`);
    assert.equal(result.beyondBound, 0, JSON.stringify({ ...result, perReader: undefined }));
  });

  it('in other processes, with writes that hold their tags over the commit (as the ORM integrations do): none beyond maxLagMs, and hits come back between writes', async () => {
    const result = await runNearCacheReaders({ url: REDIS_URL, namespace: namespace(), readers: 2, runMs: 1500, maxLagMs: MAX_LAG_MS, holds: true });
    assert.ok(result.nearHits > result.reads / 4, `near hits ${result.nearHits} of ${result.reads} reads: the invalidation replaced each hold`);
    assert.ok(result.writes > 20, `writes: ${result.writes}`);
    assert.equal(result.beyondBound, 0, JSON.stringify({ ...result, perReader: undefined }));
  });
});

describe('Near cache under faults, on a Redis of its own', needs('redis'), () => {
  let redis: OwnRedis;
  before(async () => {
    redis = await OwnRedis.start();
  });
  after(async () => {
    await redis.stop();
  });

  it('a reader whose event loop is blocked falls back to Redis instead of serving what it has not heard of', async () => {
    const blocks = [400, 900];
    const result = await runNearCacheReaders({ url: redis.url, namespace: namespace(), readers: 1, runMs: 1400, maxLagMs: MAX_LAG_MS, blockAtMs: blocks, blockMs: 200 });
    assert.equal(result.beyondBound, 0, JSON.stringify({ ...result, perReader: undefined }));
    assert.ok(result.nearHits > 0, 'the near cache served before and after the blocks');
  });

  it('subscriber connections killed, the server frozen, writes paused: no read beyond the bound, and the near cache serves again after', async () => {
    const kills = async (): Promise<void> => {
      await delay(300);
      await redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await delay(400);
      redis.pause();
      await delay(200);
      redis.resume();
      await delay(200);
      await redis.command('CLIENT', 'PAUSE', '200', 'WRITE'); // confirmations are writes: they wait too
      await delay(400);
      await redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
      lastFault = Date.now();
    };
    let lastFault = Infinity;
    const result = await runNearCacheReaders({ url: redis.url, namespace: namespace(), readers: 2, runMs: 3500, maxLagMs: MAX_LAG_MS, during: kills });
    assert.equal(result.beyondBound, 0, JSON.stringify({ ...result, perReader: undefined }));
    for (const reads of result.perReader) {
      const late = reads.filter(([start, , near]) => near === 1 && start > lastFault);
      assert.ok(late.length > 0, 'the near cache serves again once the channel is back');
    }
  });

  it('an invalidation published while the subscriber reconnects is lost to it: what it held is dropped, not served', async () => {
    const ns = namespace();
    const said: string[] = [];
    const say = (line: string) => said.push(line.replace(/.*near cache of namespace "[^"]*" /, ''));
    const logger = { warn: say, info: say };
    const reader = new TagCache({ store: redis.url, namespace: ns, nearCache: { maxLagMs: MAX_LAG_MS }, logger });
    const writer = new TagCache({ store: redis.url, namespace: ns });
    try {
      let version = 0;
      const read = () => reader.wrap('k', () => version, { tags: ['T'] });
      await untilNearHit(reader, read);
      await redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
      version++;
      await writer.invalidateTags(['T']); // lands before the reader resubscribes (its first reconnection waits 50 ms)
      await delay(MAX_LAG_MS); // the bound: from here on, nothing older may be served
      const before = reader.stats().nearHits;
      await eventually(async () => {
        assert.equal(await read(), version);
        return reader.stats().nearHits > before;
      }, 'the near cache serves again');
      assert.deepEqual(said.map((line) => line.split(/[:;]/)[0]), ['is in step with its invalidation channel', 'lost its invalidation channel', 'is in step with its invalidation channel']);
    } finally {
      await reader.close();
      await writer.close();
    }
  });

  it('an invalidation Redis refuses for lack of memory is still published: the versions are dropped, and so are the near ones', async () => {
    const ns = namespace();
    const reader = new TagCache({ store: redis.url, namespace: ns, nearCache: { maxLagMs: 500 } });
    const writer = new TagCache({ store: redis.url, namespace: ns });
    const db = createClient({ url: redis.url });
    await db.connect();
    try {
      let version = 0;
      const read = () => reader.wrap('k', () => version, { tags: ['T'] });
      await untilNearHit(reader, read);
      await db.sendCommand(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
      await db.sendCommand(['CONFIG', 'SET', 'maxmemory', '1']);
      version++;
      await writer.invalidateTags(['T']);
      await db.sendCommand(['CONFIG', 'SET', 'maxmemory', '0']);
      await eventually(async () => (await read()) === version, 'the reader gets the new value');
    } finally {
      await db.sendCommand(['CONFIG', 'SET', 'maxmemory', '0']).catch(() => undefined);
      await db.close();
      await reader.close();
      await writer.close();
    }
  });
});
