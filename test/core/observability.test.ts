/*
 * What an operator reads of a cache: stats() after real hits, misses, races and invalidations on
 * memory and Redis; store errors and recovery on a redis-server of the test's own that is stopped;
 * the tracing channels with subscribers (and silent without); log lines at their levels.
 */
import assert from 'node:assert/strict';
import { tracingChannel } from 'node:diagnostics_channel';
import { after, describe, it } from 'node:test';
import { CacheTagsError, TRACING_CHANNELS, TagCache, addCacheTags, type TagCacheOptions, type TagCacheStats } from '../../lib/index.js';
import { needs } from '../support/servers.js';
import { OwnRedis, eventually, freePort } from '../support/redis-server.js';
import { barrier, storeCases } from '../support/stores.js';

/** Counters that moved from zero, as dotted paths: what a test expects, and nothing else. */
function moved(stats: TagCacheStats): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (value: object, path: string) => {
    for (const [name, v] of Object.entries(value)) {
      if (name === 'since') continue;
      if (typeof v === 'object' && v !== null) walk(v as object, `${path}${name}.`);
      else if (v !== 0) out[`${path}${name}`] = v as number;
    }
  };
  walk(stats, '');
  return out;
}

/** A logger that keeps each line with its level. */
function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => void lines.push({ level, message });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

for (const store of storeCases) {
  describe(`TagCache.stats() on ${store.name}`, { skip: store.skip }, () => {
    const caches: TagCache[] = [];
    const make = (options?: TagCacheOptions) => {
      const cache = store.make(options);
      caches.push(cache);
      return cache;
    };
    after(() => Promise.all(caches.map((c) => c.close())));

    it('counts hits, misses by reason, stored values and invalidations', async () => {
      const cache = make();
      let runs = 0;
      const read = () => cache.wrap('photo', () => ++runs, { tags: ['Photo_1'] });
      await read();
      await read();
      await read();
      assert.equal(await cache.get('nothing'), undefined);
      await cache.invalidateTags(['Photo_1', 'Photo_1', 'Photo_list']);
      await read();
      assert.equal(runs, 2);
      assert.deepEqual(moved(cache.stats()), {
        hits: 2,
        'misses.absent': 2,
        'misses.invalidated': 1,
        stored: 2,
        'invalidations.calls': 1,
        'invalidations.tags': 2,
      });
    });

    it('counts the calls that joined a computation in progress, and the ones that had to run again', async () => {
      const cache = make();
      let runs = 0;
      const gate = barrier();
      const source = async () => {
        runs += 1;
        gate.arrive();
        await gate.wait;
        return runs;
      };
      const leader = cache.wrap('flight', source, { tags: ['F'] });
      const early = Array.from({ length: 4 }, () => cache.wrap('flight', source, { tags: ['F'] }));
      await gate.reached;
      await cache.invalidateTags(['F']);
      const late = cache.wrap('flight', source, { tags: ['F'] }); // joins after the source started and an invalidation
      gate.release();
      assert.deepEqual(await Promise.all([leader, ...early]), [1, 1, 1, 1, 1]);
      assert.equal(await late, 2, 'the late caller ran again by itself');
      const stats = cache.stats();
      assert.deepEqual(stats.singleFlight, { joined: 5, reran: 1 });
      assert.equal(stats.misses.absent + stats.misses.invalidated, 2, 'two lookups missed: the leader and the rerun');
    });

    it('counts values not stored, by reason, and says why at debug level', async () => {
      const { lines, logger } = recordingLogger();
      const cache = make({ logger });

      const gate = barrier();
      const racing = cache.wrap('learned', async () => {
        gate.arrive();
        await gate.wait;
        addCacheTags('Learned');
        return 'v1';
      });
      await gate.reached;
      await cache.invalidateTags(['Learned']);
      gate.release();
      assert.equal(await racing, 'v1');

      await cache.wrap('mixed', async () => {
        await cache.wrap('inner-a', () => 'a', { tags: ['M'] });
        await cache.invalidateTags(['M']);
        await cache.wrap('inner-b', () => 'b', { tags: ['M'] });
        return 'ab';
      });

      const invalidating = cache.invalidateTags(['P']);
      assert.equal(await cache.set('pending', 1, { tags: ['P'] }), false);
      await invalidating;

      assert.deepEqual(cache.stats().notStored, { invalidatedDuringComputation: 1, mixedVersions: 1, invalidationPending: 1, storeUnavailable: 0, resultTagsFailed: 0 });
      const debug = lines.filter((line) => line.level === 'debug').map((line) => line.message);
      assert.deepEqual(debug, [
        `cache-tags: the value of "learned" in namespace "${cache.namespace}" was not stored: invalidated-during-computation`,
        `cache-tags: the value of "mixed" in namespace "${cache.namespace}" was not stored: mixed-versions`,
        `cache-tags: the value of "pending" in namespace "${cache.namespace}" was not stored: invalidation-pending`,
      ]);
      assert.ok(lines.every((line) => line.level === 'debug'), 'not storing a value is no warning');
    });

    it('stats({ reset: true }) returns the counts so far and starts again from zero', async () => {
      const cache = make();
      await cache.wrap('k', () => 1);
      await cache.wrap('k', () => 1);
      const before = cache.stats({ reset: true });
      assert.equal(before.hits, 1);
      const after = cache.stats();
      assert.deepEqual(moved(after), {});
      assert.ok(after.since >= before.since);
      await cache.wrap('k', () => 1);
      assert.equal(cache.stats().hits, 1, 'counting goes on');
    });
  });
}

describe('Store errors and recovery in stats() and the log, on a Redis of its own', needs('redis'), () => {
  it('a stopped Redis counts store errors and unavailable misses, keeps the invalidation pending, and logs each at its level', async () => {
    const redis = await OwnRedis.start();
    const { lines, logger } = recordingLogger();
    const cache = new TagCache({ store: redis.url, namespace: 'stats-down', timeoutMs: 300, invalidationTimeoutMs: 100, retry: { initialDelayMs: 20, maxDelayMs: 20 }, logger });
    try {
      let runs = 0;
      await cache.wrap('k', () => ++runs, { tags: ['D'] });
      await cache.wrap('k', () => ++runs, { tags: ['D'] });
      await redis.stop();
      for (let i = 0; i < 3; i++) await cache.wrap('k', () => ++runs, { tags: ['D'] });
      assert.equal(runs, 4, 'served from the source');
      await cache.invalidateTags(['D']);
      const down = cache.stats();
      assert.equal(down.hits, 1);
      assert.equal(down.misses.storeUnavailable, 3, 'each call missed: the first failed, the others skipped the open circuit');
      assert.equal(down.notStored.storeUnavailable, 3, 'a value computed without the store is not stored');
      assert.equal(down.storeErrors.read, 1, 'one failed call opened the circuit');
      assert.ok(down.storeErrors.invalidate >= 1, 'the invalidation tried the store');
      assert.deepEqual(down.invalidations, { calls: 1, tags: 1, unacknowledged: 1 });
      assert.equal(down.pendingInvalidations, 1);
      assert.ok(lines.some((line) => line.level === 'warn' && /store read failed in namespace "stats-down"/.test(line.message)), JSON.stringify(lines));
      assert.ok(lines.some((line) => line.level === 'error' && /did not acknowledge the invalidation of "D"/.test(line.message)), 'an unacknowledged invalidation is an error');

      await redis.start();
      await eventually(() => cache.flushInvalidations(), 'the pending invalidation is written');
      assert.equal(cache.stats().pendingInvalidations, 0);
      assert.ok(lines.some((line) => line.level === 'info' && line.message === 'cache-tags: the pending invalidation of 1 tag(s) in namespace "stats-down" is written'), 'recovery is info');
    } finally {
      await cache.close();
      await redis.stop();
    }
  });

  it('a logger with warn alone gets errors as warnings, and no debug or info lines', async () => {
    const redis = await OwnRedis.start();
    const warnings: string[] = [];
    const cache = new TagCache({ store: redis.url, namespace: 'stats-warn-only', timeoutMs: 300, invalidationTimeoutMs: 100, retry: { initialDelayMs: 20, maxDelayMs: 20 }, logger: { warn: (message) => warnings.push(message) } });
    try {
      await redis.stop();
      await cache.wrap('k', () => 1, { tags: ['W'] });
      await cache.invalidateTags(['W']);
      assert.ok(warnings.some((message) => /did not acknowledge the invalidation of "W"/.test(message)), JSON.stringify(warnings));
      assert.ok(!warnings.some((message) => /was not stored|pending invalidation of/.test(message)), JSON.stringify(warnings));
    } finally {
      await cache.close();
      await redis.stop();
    }
  });
});

type Event = { channel: string; event: string; context: Record<string, unknown> };

/** Subscribes to every event of every cache-tags channel; `events` keeps those of `namespace`. */
function traceOf(namespace: string): { events: Event[]; stop: () => void } {
  const events: Event[] = [];
  const stops: (() => void)[] = [];
  for (const [channel, name] of Object.entries(TRACING_CHANNELS)) {
    const record = (event: string) => (message: unknown) => {
      const context = message as Record<string, unknown>;
      if (context.namespace === namespace) events.push({ channel, event, context: { ...context } });
    };
    const handlers = { start: record('start'), end: record('end'), asyncStart: record('asyncStart'), asyncEnd: record('asyncEnd'), error: record('error') };
    const traced = tracingChannel(name);
    traced.subscribe(handlers);
    stops.push(() => traced.unsubscribe(handlers));
  }
  return { events, stop: () => stops.forEach((stop) => stop()) };
}

describe('Tracing channels', () => {
  const caches: TagCache[] = [];
  const make = () => {
    const cache = new TagCache({ namespace: `trace-${caches.length}` });
    caches.push(cache);
    return cache;
  };
  after(() => Promise.all(caches.map((c) => c.close())));

  it('names the channels as documented', () => {
    assert.deepEqual(TRACING_CHANNELS, { get: 'cache-tags:get', wrap: 'cache-tags:wrap', set: 'cache-tags:set', compute: 'cache-tags:compute', invalidate: 'cache-tags:invalidate' });
  });

  it('publishes start, end, asyncStart and asyncEnd of wrap with namespace, key, tags and outcome; the source on compute', async () => {
    const cache = make();
    const trace = traceOf(cache.namespace);
    try {
      await cache.wrap('photo', () => 'p', { tags: ['Photo_1'] });
      await cache.wrap('photo', () => 'p', { tags: ['Photo_1'] });
    } finally {
      trace.stop();
    }
    const sequence = trace.events.map((e) => `${e.channel}:${e.event}`);
    assert.deepEqual(sequence, [
      'wrap:start', 'wrap:end', 'compute:start', 'compute:end', 'compute:asyncStart', 'compute:asyncEnd', 'wrap:asyncStart', 'wrap:asyncEnd',
      'wrap:start', 'wrap:end', 'wrap:asyncStart', 'wrap:asyncEnd',
    ]);
    const ends = trace.events.filter((e) => e.channel === 'wrap' && e.event === 'asyncEnd').map((e) => e.context);
    assert.deepEqual(ends, [
      { namespace: cache.namespace, key: 'photo', tags: ['Photo_1'], outcome: 'miss', result: 'p' },
      { namespace: cache.namespace, key: 'photo', tags: ['Photo_1'], outcome: 'hit', result: 'p' },
    ]);
    const compute = trace.events.find((e) => e.channel === 'compute' && e.event === 'asyncEnd')!.context;
    assert.deepEqual(compute, { namespace: cache.namespace, key: 'photo', tags: ['Photo_1'], result: 'p' });
  });

  it('says joined for a call that shared a run in progress', async () => {
    const cache = make();
    const trace = traceOf(cache.namespace);
    const gate = barrier();
    try {
      const calls = [0, 1].map(() => cache.wrap('shared', async () => {
        await gate.wait;
        return 's';
      }));
      gate.release();
      await Promise.all(calls);
    } finally {
      trace.stop();
    }
    const outcomes = trace.events.filter((e) => e.channel === 'wrap' && e.event === 'asyncEnd').map((e) => e.context.outcome);
    assert.deepEqual(outcomes.sort(), ['joined', 'miss']);
    assert.equal(trace.events.filter((e) => e.channel === 'compute' && e.event === 'start').length, 1, 'one source ran');
  });

  it('publishes error on wrap and compute with the error the source threw', async () => {
    const cache = make();
    const trace = traceOf(cache.namespace);
    const failure = new Error('the database is gone');
    try {
      await assert.rejects(cache.wrap('broken', () => { throw failure; }, { tags: ['B'] }), failure);
    } finally {
      trace.stop();
    }
    const errors = trace.events.filter((e) => e.event === 'error');
    assert.deepEqual(errors.map((e) => e.channel), ['compute', 'wrap']);
    for (const e of errors) assert.equal(e.context.error, failure);
  });

  it('publishes error on invalidate when the store does not acknowledge it and the cache rejects', async () => {
    const cache = new TagCache({ store: `redis://127.0.0.1:${await freePort()}`, namespace: 'trace-unacknowledged', timeoutMs: 100, invalidationTimeoutMs: 50, onInvalidationTimeout: 'reject' });
    caches.push(cache);
    const trace = traceOf(cache.namespace);
    try {
      await assert.rejects(cache.invalidateTags(['Gone'], 'a write'), (error: CacheTagsError) => error.code === 'E_INVALIDATION_PENDING');
    } finally {
      trace.stop();
    }
    const error = trace.events.find((e) => e.channel === 'invalidate' && e.event === 'error');
    assert.ok(error, JSON.stringify(trace.events.map((e) => `${e.channel}:${e.event}`)));
    assert.equal(error.context.acknowledged, false);
    assert.deepEqual(error.context.tags, ['Gone']);
    assert.ok(error.context.error instanceof CacheTagsError);
  });

  it('publishes get, set and invalidate with their context', async () => {
    const cache = make();
    const trace = traceOf(cache.namespace);
    try {
      assert.equal(await cache.set('k', 1, { tags: ['T'] }), true);
      assert.equal(await cache.get('k'), 1);
      await cache.invalidateTags(['T'], { write: 'update' });
      assert.equal(await cache.get('k'), undefined);
    } finally {
      trace.stop();
    }
    const ends = trace.events.filter((e) => e.event === 'asyncEnd').map((e) => [e.channel, e.context]);
    assert.deepEqual(ends, [
      ['set', { namespace: cache.namespace, key: 'k', tags: ['T'], result: true }],
      ['get', { namespace: cache.namespace, key: 'k', outcome: 'hit', result: 1 }],
      ['invalidate', { namespace: cache.namespace, tags: ['T'], source: { write: 'update' }, acknowledged: true, result: undefined }],
      ['get', { namespace: cache.namespace, key: 'k', outcome: 'miss', result: undefined }],
    ]);
  });

  it('builds no context and publishes nothing on a channel with no subscriber, also while another channel has one', async () => {
    const cache = make();
    /*
     * Not a fake: a pass-through spy on Node's TracingChannel.prototype.tracePromise, the one call
     * that builds and publishes a context, to see which channels were traced at all.
     */
    const proto = Object.getPrototypeOf(tracingChannel(TRACING_CHANNELS.get)) as { tracePromise: (this: { start: { name: string } }, ...args: unknown[]) => unknown };
    const tracePromise = proto.tracePromise;
    const traced: string[] = [];
    proto.tracePromise = function (this: { start: { name: string } }, ...args: unknown[]) {
      traced.push(this.start.name);
      return tracePromise.apply(this, args);
    };
    const seen: string[] = [];
    const onGet = { start: () => void seen.push('get'), end: () => undefined, asyncStart: () => undefined, asyncEnd: () => undefined, error: () => undefined };
    const onWrap = { ...onGet, start: () => void seen.push('wrap') };
    const get = tracingChannel(TRACING_CHANNELS.get);
    const wrap = tracingChannel(TRACING_CHANNELS.wrap);
    try {
      await cache.wrap('k', () => 1, { tags: ['T'] });
      await cache.set('s', 1);
      await cache.invalidateTags(['T']);
      await cache.get('k');
      assert.deepEqual(traced, [], 'no subscriber anywhere: nothing traced');
      wrap.subscribe(onWrap);
      wrap.unsubscribe(onWrap); // Node keeps the channel objects, now with no subscriber
      get.subscribe(onGet);
      await cache.wrap('k', () => 2, { tags: ['T'] });
      await cache.invalidateTags(['T']);
      await cache.get('k');
    } finally {
      get.unsubscribe(onGet);
      proto.tracePromise = tracePromise;
    }
    assert.deepEqual(traced, ['tracing:cache-tags:get:start']);
    assert.deepEqual(seen, ['get']);
  });
});
