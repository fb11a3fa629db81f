/*
 * No stale read under store faults, on a redis-server each suite owns and breaks for real
 * (SIGSTOP, CLIENT PAUSE WRITE, DEBUG SLEEP, nothing listening, a bad row). "Another process" is a
 * second cache on the same namespace with a connection of its own, as another process would have.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import type { Keyv } from 'keyv';
import { CacheTagsError, TagCache, type TagCacheOptions } from '../../lib/index.js';
import { needs } from '../support/servers.js';
import { OwnRedis, freePort } from '../support/redis-server.js';
import { barrier } from '../support/stores.js';

describe('Store faults on a Redis of its own', needs('redis'), () => {
  let redis: OwnRedis;
  const caches: TagCache[] = [];
  let namespaces = 0;
  const make = (options: TagCacheOptions = {}) => {
    const cache = new TagCache({ store: redis.url, namespace: `faults-${namespaces++}`, ...options });
    caches.push(cache);
    return cache;
  };
  /** A writer and another process on one namespace, with an entry both have read. */
  const pair = async (writerOptions: TagCacheOptions = {}) => {
    const writer = make({ timeoutMs: 300, ...writerOptions });
    const other = make({ namespace: writer.namespace });
    let source = 0;
    const read = (c: TagCache) => c.wrap('item', () => ++source, { tags: ['Item'] });
    // Seeded by the other process: on a loaded machine the writer's short timeout may give up on a
    // read, and a value computed without the store is not stored.
    assert.equal(await read(other), 1);
    await read(writer); // its connection is up and it has read the entry (or given up on the store)
    assert.equal(await read(other), 1, 'a hit in the other process');
    return { writer, other };
  };
  before(async () => {
    redis = await OwnRedis.start();
  });
  after(async () => {
    redis.resume();
    await Promise.all(caches.map((c) => c.close()));
    await redis.stop();
  });

  it('a caller that joins a computation running without the store gets a value read after it joined', async () => {
    const cache = new TagCache({ store: `redis://127.0.0.1:${await freePort()}`, timeoutMs: 100, invalidationTimeoutMs: 50 });
    caches.push(cache);
    let data = 'old';
    const gate = barrier();
    const leader = cache.wrap('joined', async () => {
      const read = data;
      gate.arrive();
      await gate.wait;
      return read;
    }, { tags: ['J'] });
    await gate.reached;
    data = 'new'; // a write in another process, returned before the next caller comes
    const joiner = cache.wrap('joined', () => data, { tags: ['J'] });
    gate.release();
    assert.equal(await leader, 'old');
    assert.equal(await joiner, 'new', 'not the value the leader read before the write');
  });

  for (const fault of [
    { name: 'CLIENT PAUSE WRITE', start: () => void redis.command('CLIENT', 'PAUSE', '700', 'WRITE') },
    { name: 'SIGSTOP', start: () => (redis.pause(), void setTimeout(() => redis.resume(), 700)) },
    { name: 'DEBUG SLEEP', start: () => void redis.command('DEBUG', 'SLEEP', '0.7').catch(() => undefined) },
  ]) {
    it(`under ${fault.name}, a write returns once its invalidation is acknowledged: no other process serves the old entry after it`, async () => {
      const { writer, other } = await pair();
      fault.start();
      await new Promise((resolve) => setTimeout(resolve, 50)); // the fault is in place
      await writer.invalidateTags(['Item']);
      assert.equal(writer.pendingInvalidations, 0, 'acknowledged, not left pending');
      assert.equal(await other.get('item'), undefined, 'the other process misses');
    });
  }

  it('past invalidationTimeoutMs, the write returns with an error-level report naming the tags and the worst case', async () => {
    const logged: string[] = [];
    const logger = { warn: () => undefined, error: (message: string) => logged.push(message) };
    const { writer } = await pair({ invalidationTimeoutMs: 150, logger });
    const events: unknown[] = [];
    writer.on('error', ({ operation, error }) => operation === 'invalidate' && events.push(error));
    redis.pause();
    try {
      await writer.invalidateTags(['Item', 'Item_list']);
      assert.equal(logged.length, 1);
      assert.match(logged[0], /"Item", "Item_list"/);
      assert.match(logged[0], /at most 3600000 ms/);
      assert.ok(events.some((e) => e instanceof CacheTagsError && e.code === 'E_INVALIDATION_PENDING'), 'an error event with a typed error');
      assert.equal(writer.pendingInvalidations, 2, 'kept for retry');
      assert.equal(await writer.get('item'), undefined, 'this process serves nothing under the tags meanwhile');
    } finally {
      redis.resume();
    }
  });

  it('with onInvalidationTimeout "reject", the write rejects with E_INVALIDATION_PENDING naming the tags', async () => {
    const { writer } = await pair({ invalidationTimeoutMs: 150, onInvalidationTimeout: 'reject' });
    redis.pause();
    try {
      await assert.rejects(writer.invalidateTags(['Item']), (error: CacheTagsError) => error.code === 'E_INVALIDATION_PENDING' && /"Item"/.test(error.message));
    } finally {
      redis.resume();
    }
  });

  it('one undecodable entry is a miss for its key alone: the other keys keep hitting', async () => {
    const cache = make();
    let source = 0;
    assert.equal(await cache.wrap('good', () => ++source, { tags: ['G'] }), 1);
    const client = createClient({ url: redis.url });
    await client.connect();
    await client.set(`${cache.namespace}:e:bad`, 'not json {');
    await client.close();
    assert.equal(await cache.wrap('bad', () => 'from source', { tags: ['G'] }), 'from source');
    assert.equal(await cache.wrap('good', () => ++source, { tags: ['G'] }), 1, 'still a hit: the circuit did not open');
    assert.equal(await cache.wrap('bad', () => 'again', { tags: ['G'] }), 'from source', 'the bad row was replaced by a good one');
  });

  it('calls made before the connection is up wait for it instead of failing', async () => {
    const cache = make();
    const errors: unknown[] = [];
    cache.on('error', ({ error }) => errors.push(error));
    let source = 0;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => cache.wrap(`early-${i % 2}`, () => ++source, { tags: ['E'] })));
    assert.deepEqual(errors, []);
    assert.equal(source, 2, 'one run per key');
    assert.equal(results.length, 20);
    assert.equal(await cache.wrap('early-0', () => ++source, { tags: ['E'] }), results[0], 'stored');
  });

  it('tag versions expire by default, comfortably after the entries', async () => {
    const cache = make({ ttl: 60_000 });
    await cache.wrap('ttl', () => 1, { tags: ['Expiring'] });
    const ms = Number(await redis.command('PTTL', `{${cache.namespace}}:t:Expiring`));
    assert.ok(ms > 23 * 3_600_000 && ms <= 24 * 3_600_000, `a day by default, got ${ms} ms`);
    const long = make({ ttl: 86_400_000 });
    await long.invalidateTags(['Long']);
    const longMs = Number(await redis.command('PTTL', `{${long.namespace}}:t:Long`));
    assert.ok(longMs > 47 * 3_600_000, `twice a long entry TTL, got ${longMs} ms`);
  });

  it('a Keyv from the other module format is used as it is', async () => {
    // A real dynamic import: tsc would turn `import()` into `require()` in this CommonJS build.
    const load = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<{ Keyv: new () => Keyv }>; // eslint-disable-line @typescript-eslint/no-implied-eval
    const { Keyv: EsmKeyv } = await load('keyv');
    const keyv = new EsmKeyv();
    const cache = new TagCache({ store: keyv });
    caches.push(cache);
    assert.equal(await cache.store(), keyv);
    let source = 0;
    assert.equal(await cache.wrap('esm', () => ++source, { tags: ['Esm'] }), 1);
    assert.equal(await cache.wrap('esm', () => ++source, { tags: ['Esm'] }), 1);
    await cache.invalidateTags(['Esm']);
    assert.equal(await cache.wrap('esm', () => ++source, { tags: ['Esm'] }), 2);
  });
});

describe('A redis:// store without @keyv/redis', () => {
  it('throws at construction, naming the package', () => {
    // A fake for the one fault no real part gives here (the package is installed): resolution fails.
    const hide = "const M=require('module');const r=M._resolveFilename;M._resolveFilename=function(s,...a){if(s==='@keyv/redis')throw Object.assign(new Error('Cannot find module'),{code:'MODULE_NOT_FOUND'});return r.call(this,s,...a)};";
    const script = `${hide}const { TagCache } = require(${JSON.stringify(require.resolve('../../lib/index.js'))});
try { new TagCache({ store: 'redis://user:secret@127.0.0.1:1' }); console.log('constructed'); } catch (e) { console.log(e.code + ' ' + e.message); }`;
    const { stdout } = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.match(stdout, /^E_MISSING_PEER .*@keyv\/redis/);
    assert.doesNotMatch(stdout, /secret/, 'the message does not show the credentials');
  });
});
