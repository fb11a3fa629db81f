/*
 * Behaviour that only a real Redis shows: command counts (INFO commandstats) and outages. Each test
 * runs its own redis-server on its own port, so counts are its own and it may kill the server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addCacheTags, TagCache, type TagCacheOptions } from '../../lib/index.js';
import { storeOf } from '../support/keyv-store.js';
import { needs } from '../support/servers.js';
import { OwnRedis, commandDelta, eventually, freePort } from '../support/redis-server.js';

describe('TagCache on a Redis of its own', needs('redis'), () => {
  let redis: OwnRedis;
  const caches: TagCache[] = [];
  const make = (options: TagCacheOptions = {}) => {
    const cache = new TagCache({ store: redis.url, namespace: `own-${caches.length}`, ...options });
    caches.push(cache);
    return cache;
  };
  before(async () => {
    redis = await OwnRedis.start();
  });
  after(async () => {
    await Promise.all(caches.map((c) => c.close()));
    await redis.stop();
  });

  it('invalidating a tag costs the same commands for 10 entries as for 10,000', async () => {
    const cache = make();
    const fill = async (tag: string, count: number) => {
      for (let start = 0; start < count; start += 500) {
        await Promise.all(Array.from({ length: Math.min(500, count - start) }, (_, i) => cache.wrap(`${tag}:${start + i}`, () => start + i, { tags: [tag] })));
      }
    };
    await fill('Few', 10);
    await fill('Many', 10_000);
    await cache.invalidateTags(['Warm-up']); // loads the script once

    const s0 = await redis.commandCounts();
    await cache.invalidateTags(['Few']);
    const s1 = await redis.commandCounts();
    await cache.invalidateTags(['Many']);
    const s2 = await redis.commandCounts();
    const few = commandDelta(s0, s1);
    const many = commandDelta(s1, s2);
    assert.deepEqual(many, few, 'the same commands, whatever the number of entries');
    assert.ok(!Object.keys(many).some((cmd) => /scan|keys|del|unlink/.test(cmd)), `no scan or delete of entries: ${JSON.stringify(many)}`);

    let runs = 0;
    assert.equal(await cache.wrap('Many:0', () => (runs++, -1), { tags: ['Many'] }), -1);
    assert.equal(await cache.wrap('Many:9999', () => (runs++, -1), { tags: ['Many'] }), -1);
    assert.equal(await cache.wrap('Few:9', () => (runs++, -1), { tags: ['Few'] }), -1);
    assert.equal(runs, 3, 'every entry that carried an invalidated tag misses');
  });

  it('a hit in steady state is one MGET, also for an entry with tags learned during its computation', async () => {
    const cache = make();
    let runs = 0;
    const read = () => cache.wrap('steady', async () => {
      addCacheTags('Learned');
      return ++runs;
    }, { tags: ['Declared_1', 'Declared_2'] });
    await read();
    await read();
    assert.equal(runs, 1);
    const s0 = await redis.commandCounts();
    assert.equal(await read(), 1);
    assert.deepEqual(commandDelta(s0, await redis.commandCounts()), { mget: 1 });
  });

  it('in a brand-new namespace, the first computation whose tags are all learned is stored', async () => {
    const cache = make();
    let runs = 0;
    const read = () => cache.wrap('first', async () => {
      addCacheTags('Learned');
      return ++runs;
    });
    assert.equal(await read(), 1);
    assert.equal(await read(), 1, 'a hit: the namespace had a sequence before the source ran');
    await cache.invalidateTags(['Learned']);
    assert.equal(await read(), 2, 'and the learned tag invalidates it');
  });

  it('with Redis killed, calls return the source value, never throw, and try the store only once', async () => {
    const cache = make({ timeoutMs: 300, invalidationTimeoutMs: 200, circuitBreaker: { resetAfterMs: 60_000 } });
    const errors: string[] = [];
    cache.on('error', ({ operation }) => errors.push(operation));
    let source = 0;
    assert.equal(await cache.wrap('down', () => ++source, { tags: ['D'] }), 1);
    assert.equal(await cache.wrap('down', () => ++source, { tags: ['D'] }), 1);

    await redis.stop();
    try {
      for (let i = 2; i <= 21; i++) assert.equal(await cache.wrap('down', () => ++source, { tags: ['D'] }), i, 'served from the source');
      assert.equal(errors.length, 1, `one failed store call opens the circuit; the others skip the store (${errors.join(', ')})`);
      await cache.invalidateTags(['D']);
      assert.equal(cache.pendingInvalidations, 1, 'the invalidation is kept for retry');
    } finally {
      await redis.start();
    }
  });

  it('with nothing listening on the port, calls return the source value and try the store only once', async () => {
    const cache = new TagCache({ store: `redis://127.0.0.1:${await freePort()}`, timeoutMs: 300, invalidationTimeoutMs: 100, circuitBreaker: { resetAfterMs: 60_000 } });
    caches.push(cache);
    let errors = 0;
    cache.on('error', () => errors++);
    let source = 0;
    for (let i = 1; i <= 20; i++) assert.equal(await cache.wrap('nowhere', () => ++source, { tags: ['N'] }), i);
    assert.equal(errors, 1);
    await assert.doesNotReject(cache.invalidateTags(['N']));
  });

  it('when a hung Redis answers again, caching resumes and the invalidation it missed is written by itself', async () => {
    const options: TagCacheOptions = { timeoutMs: 300, invalidationTimeoutMs: 100, circuitBreaker: { resetAfterMs: 50 }, retry: { initialDelayMs: 60_000 } };
    const logged: { warn: string[]; info: string[] } = { warn: [], info: [] };
    const cache = make({ ...options, logger: { warn: (message) => logged.warn.push(message), info: (message) => logged.info.push(message) } });
    const otherProcess = make({ ...options, namespace: cache.namespace });
    let source = 0;
    const read = (c: TagCache) => c.wrap('hung', () => ++source, { tags: ['H'] });
    assert.equal(await read(cache), 1);
    assert.equal(await read(otherProcess), 1);

    redis.pause();
    assert.equal(await read(cache), 2, 'a timed-out read serves the source');
    await cache.invalidateTags(['H']); // skipped by the open circuit: left pending
    assert.equal(cache.pendingInvalidations, 1);
    redis.resume();

    await eventually(async () => (await otherProcess.get('hung')) === undefined, 'the pending invalidation reaches Redis');
    await eventually(async () => (await cache.get('probe'), cache.pendingInvalidations === 0), 'the cache sees the store again and writes what it left pending');
    assert.equal(await read(cache), 3);
    assert.equal(await read(cache), 3, 'caching resumed: the source did not run again');
    assert.ok(logged.warn.some((message) => message.includes('failed')), 'the failure was a warning');
    assert.ok(logged.info.some((message) => message.includes('answers again')), 'the recovery is news, at info');
    assert.ok(!logged.warn.some((message) => message.includes('answers again')), 'not a warning');
  });

  it('while Redis refuses writes (maxmemory, noeviction), an invalidation still lands: every process misses at once', async () => {
    const cache = make({ circuitBreaker: { resetAfterMs: 0 } });
    const otherProcess = make({ namespace: cache.namespace, circuitBreaker: { resetAfterMs: 0 } });
    let source = 0;
    const read = (c: TagCache) => c.wrap('refused', () => ++source, { tags: ['R'] });
    assert.equal(await read(cache), 1);
    assert.equal(await read(otherProcess), 1);

    await redis.command('CONFIG', 'SET', 'maxmemory', '1'); // noeviction: every write is refused, reads and DEL work
    try {
      await cache.invalidateTags(['R']);
      assert.equal(cache.pendingInvalidations, 0, 'acknowledged');
      assert.equal(await otherProcess.get('refused'), undefined, 'another process misses as soon as the write returned');
      assert.equal(await read(otherProcess), 2, 'computed from the source');
      assert.equal(await read(otherProcess), 3, 'and not stored while Redis refuses writes');
    } finally {
      await redis.command('CONFIG', 'SET', 'maxmemory', '0');
    }
    assert.equal(await read(otherProcess), 4);
    assert.equal(await read(otherProcess), 4, 'caching resumes');
  });

  it('after Redis lost its scripts (SCRIPT FLUSH, a restart), an invalidation and a mint still land, sent as EVAL', async () => {
    const cache = make();
    let runs = 0;
    const read = () => cache.wrap('scripts', () => ++runs, { tags: ['Flushed'] });
    assert.equal(await read(), 1);
    await redis.command('SCRIPT', 'FLUSH');
    const s0 = await redis.commandCounts();
    await cache.invalidateTags(['Flushed']);
    assert.equal(await read(), 2, 'the invalidation landed: the entry misses');
    assert.equal(await read(), 2, 'and the recomputed entry is stored and hit');
    const delta = commandDelta(s0, await redis.commandCounts());
    assert.ok((delta.eval ?? 0) >= 1, `the script was sent in full once Redis answered NOSCRIPT: ${JSON.stringify(delta)}`);
  });

  it('a closed cache runs the source and never reconnects to the store', async () => {
    const cache = make();
    let source = 0;
    await cache.wrap('closed', () => ++source, { tags: ['C'] });
    await cache.close();
    const before = await redis.commandCounts();
    assert.equal(await cache.wrap('closed', () => ++source, { tags: ['C'] }), 2);
    await cache.invalidateTags(['C']);
    assert.deepEqual(commandDelta(before, await redis.commandCounts()), {}, 'no command reached Redis');
    const { client } = await storeOf<{ client: { isOpen: boolean } }>(cache);
    assert.equal(client.isOpen, false, 'its connection stays closed');
  });
});
