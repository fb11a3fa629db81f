/*
 * Redis Cluster as the store (docs/cluster.md): a 3-master cluster with a replica each, of the
 * test's own, on loopback ports. Each test uses its own namespace; a second TagCache on the same
 * cluster plays another process.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addCacheTags, CacheTagsError, TagCache, type TagCacheOptions } from '../../lib/index.js';
import { clusterKey } from '../../lib/core/redis-cluster-store.js';
import { Row } from '../support/cached-row.js';
import { OwnRedisCluster, clusterTools } from '../support/redis-cluster.js';
import { createCluster } from 'redis';

describe('TagCache on a Redis Cluster', clusterTools(), () => {
  let cluster: OwnRedisCluster;
  const caches: TagCache[] = [];
  let namespaces = 0;
  /** Two caches of one namespace: a writer and a reader, as two processes. */
  const pair = (options: TagCacheOptions = {}): [TagCache, TagCache] => {
    const namespace = `cl-${namespaces++}`;
    const made = [0, 1].map(() => new TagCache({ store: { cluster: { rootNodes: cluster.rootNodes } }, namespace, invalidationTimeoutMs: 10_000, onInvalidationTimeout: 'reject', ...options }));
    caches.push(...made);
    return made as [TagCache, TagCache];
  };
  /** Tag names whose versions live on `count` different masters. */
  const spreadTags = async (namespace: string, count: number): Promise<string[]> => {
    const byMaster = new Map<number, string>();
    for (let i = 0; byMaster.size < count; i++) {
      const tag = `T${i}`;
      const master = await cluster.masterOf(clusterKey(`{${namespace}}:t:${tag}`));
      if (!byMaster.has(master)) byMaster.set(master, tag);
    }
    return [...byMaster.values()];
  };

  before(async () => {
    cluster = await OwnRedisCluster.start();
  });
  after(async () => {
    await Promise.all(caches.map((c) => c.close()));
    await cluster?.stop();
  });

  it('misses, then hits, for an entry whose tags live on three different masters', async () => {
    const [cache] = pair();
    const tags = await spreadTags(cache.namespace, 3);
    const row = new Row(tags);
    let misses = 0;
    let hits = 0;
    cache.on('miss', () => misses++);
    cache.on('hit', () => hits++);
    assert.equal(await row.read(cache), 0);
    assert.equal(await row.read(cache), 0);
    assert.equal(await row.read(cache), 0);
    assert.equal(row.runs, 1, 'the source ran once');
    assert.deepEqual({ misses, hits }, { misses: 1, hits: 2 });
    assert.ok(Object.values(cache.stats().storeErrors).every((n) => n === 0), 'no store call failed');
  });

  it('the first calls wait for the cluster to be discovered; cache.store() is a Keyv over the same cluster', async () => {
    const [cache] = pair();
    assert.equal(await new Row(['Some']).read(cache), 0);
    assert.ok(Object.values(cache.stats().storeErrors).every((n) => n === 0), 'no store call failed while the client discovered the slots');
    const keyv = await cache.store();
    await keyv.set(`${cache.namespace}:own`, { a: 1 });
    assert.deepEqual(await keyv.get(`${cache.namespace}:own`), { a: 1 });
  });

  it('an invalidation of tags on different masters reaches another process at once', async () => {
    const [writer, reader] = pair();
    const tags = await spreadTags(writer.namespace, 3);
    const rows = tags.map((tag) => new Row([tag]));
    for (let round = 0; round < 20; round++) {
      const row = rows[round % rows.length];
      await row.check(reader, `row-${round % rows.length}`);
      await row.write(writer);
      await row.check(reader, `row-${round % rows.length}`);
    }
    assert.equal(rows.reduce((sum, row) => sum + row.stale, 0), 0, 'no read older than a write that returned');
    assert.deepEqual(rows.map((row) => row.runs), rows.map((row) => row.writes + 1), 'the source ran once per write: reads between writes were hits');
  });

  it('judges a tag learned during the computation against an invalidation on another slot', async () => {
    const [writer, reader] = pair();
    const [late] = await spreadTags(writer.namespace, 1);
    let value = 0;
    let runs = 0;
    const invalidatedMidway = () => reader.wrap('late', async () => {
      runs++;
      const read = value; // the data, read before the write below
      value++;
      await writer.invalidateTags([late]);
      addCacheTags(late);
      return read;
    });
    assert.equal(await invalidatedMidway(), 0);
    const quiet = () => reader.wrap('late', () => (runs++, addCacheTags(late), value));
    assert.equal(await quiet(), 1, 'the value computed before the invalidation was not stored');
    assert.equal(await quiet(), 1);
    assert.equal(runs, 2, 'a computation no invalidation overtook was stored');
  });

  it('lock: three caches (as three processes) that miss one key at once run the source once', async () => {
    const stampede = async (lock: boolean): Promise<{ runs: number; values: string[]; led: number }> => {
      const namespace = `cl-${namespaces++}`;
      const trio = [0, 1, 2].map(() => new TagCache({ store: { cluster: { rootNodes: cluster.rootNodes } }, namespace, lock }));
      caches.push(...trio);
      let runs = 0;
      const source = async (): Promise<string> => {
        runs++;
        await new Promise((resolve) => setTimeout(resolve, 200));
        return `run ${runs}`;
      };
      const values = await Promise.all(trio.map((cache) => cache.wrap('page', source, { tags: ['Page'] })));
      return { runs, values, led: trio.reduce((n, cache) => n + cache.stats().lock.led, 0) };
    };
    assert.equal((await stampede(false)).runs, 3, 'without the lock each cache computes');
    assert.deepEqual(await stampede(true), { runs: 1, values: ['run 1', 'run 1', 'run 1'], led: 1 });
  });

  it('a master failover loses no invalidation: 0 stale reads', async () => {
    const [writer, reader] = pair();
    const [tag] = await spreadTags(writer.namespace, 1);
    const row = new Row([tag]);
    await row.check(reader);
    const master = await cluster.masterOf(clusterKey(`{${writer.namespace}}:t:${tag}`));
    await cluster.failover(master);
    assert.notEqual(await cluster.masterOf(clusterKey(`{${writer.namespace}}:t:${tag}`)), master, 'the tag has a new master');
    for (let round = 0; round < 10; round++) {
      await row.write(writer);
      await row.check(reader);
      await row.check(reader);
    }
    assert.equal(row.stale, 0);
    assert.equal(row.runs, row.writes + 1, 'the source ran once per write: the second read after each was a hit');
  });

  it('resharding the slot of a tag (ASK while it moves, MOVED after) loses no invalidation: 0 stale reads', async () => {
    const [writer, reader] = pair();
    const [tag] = await spreadTags(writer.namespace, 1);
    const tagKey = clusterKey(`{${writer.namespace}}:t:${tag}`);
    const row = new Row([tag]);
    await row.check(reader);
    await row.write(writer);
    await row.check(reader);
    const source = await cluster.masterOf(tagKey);
    const target = (await cluster.nodes()).find((node) => node.master && node.port !== source)!.port;
    const finish = await cluster.migrate(tagKey, target);
    for (let round = 0; round < 5; round++) {
      await row.write(writer); // the tag's key is on the target already: the source answers ASK
      await row.check(reader);
    }
    await finish();
    assert.equal(await cluster.masterOf(tagKey), target);
    for (let round = 0; round < 5; round++) {
      await row.write(writer);
      await row.check(reader);
      await row.check(reader);
    }
    assert.equal(row.stale, 0);
    assert.ok(row.runs <= row.writes + 1, 'reads after the move hit again');
  });

  it('a node-redis cluster client of the application\'s own: used as it is, connected if it is not yet, never closed by the cache', async () => {
    const own = createCluster({ rootNodes: [{ url: cluster.rootNodes[0] }] });
    own.on('error', () => undefined);
    const namespace = `cl-${namespaces++}`;
    const writer = new TagCache({ store: { cluster: own }, namespace, invalidationTimeoutMs: 10_000, onInvalidationTimeout: 'reject' });
    const other = new TagCache({ store: { cluster: { rootNodes: cluster.rootNodes } }, namespace });
    caches.push(other);
    const [tag] = await spreadTags(namespace, 1);
    const row = new Row([tag]);
    await row.check(writer);
    await row.check(other);
    await row.write(writer);
    await row.check(other);
    await row.check(writer);
    assert.equal(row.stale, 0);
    assert.equal(row.runs, 2, 'each process hit what the other stored');
    const late = new TagCache({ store: { cluster: own }, namespace });
    await row.check(late);
    assert.equal(row.runs, 2, 'a cache handed the client once it is open hits too');
    await late.close();
    await writer.close();
    assert.ok(own.isOpen, 'the cache left the client open');
    assert.equal(await own.get(`${namespace}:e:row`) !== null, true, 'and it still answers');
    await own.close();
  });

  it('a misconfigured cluster option is refused at construction, naming what is wrong', () => {
    const refused = (store: unknown, message: RegExp) => assert.throws(() => new TagCache({ store: store as TagCacheOptions['store'] }), (error: unknown) => error instanceof CacheTagsError && error.code === 'E_INVALID_OPTION' && message.test(error.message));
    refused({ cluster: 'redis://127.0.0.1:7000' }, /store\.cluster must be an object with rootNodes or a node-redis cluster client, got "redis:\/\/127/);
    refused({ cluster: { rootNodes: [] } }, /store\.cluster\.rootNodes must be a non-empty array of redis:\/\/ URLs/);
    refused({ cluster: { rootNodes: ['redis://127.0.0.1:7000', 'http://x:1'] } }, /store\.cluster\.rootNodes\[1\] must be a redis:\/\/host:port or rediss:\/\/host:port URL, got "http:\/\/x:1"/);
    refused({ cluster: { rootNodes: ['redis://127.0.0.1:7000', 'rediss://127.0.0.1:7001'] } }, /store\.cluster\.rootNodes mixes redis:\/\/ and rediss:\/\/ URLs/);
    refused({ cluster: { rootNodes: ['redis://127.0.0.1:7000'], defaults: 'tls' } }, /store\.cluster\.defaults must be an object of node-redis client options, got "tls"/);
    refused({ cluster: { rootNodes: ['redis://user:secret@127.0.0.1'] } }, /rootNodes\[0\].*got "redis:\/\/\*\*\*@127\.0\.0\.1"/);
  });
});
