/*
 * Redis Cluster benchmark: a tagged hit (one caller at a time, and 64 at once) and an invalidation
 * on a 3-master cluster of the run's own, next to a raw cluster GET / SET of the same payload
 * through node-redis's cluster client in the same run. The cluster is deleted afterwards.
 */
import { execFileSync } from 'node:child_process';
import { createCluster } from 'redis';
import { TagCache } from '../lib/index.js';
import { compareConcurrent } from './support/concurrent.js';
import { compare, type Schedule } from './support/measure.js';
import { makeProduct } from './support/payload.js';
import { printSection, statsTable, throughputTable } from './support/report.js';
import { OwnRedisCluster } from '../test/support/redis-cluster.js';

const CALLERS = 64;
const tags = ['Product_1', 'Catalog'];

function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version']);
    return true;
  } catch {
    return false;
  }
}

/** The cluster benchmark; skipped when redis-server is not installed. */
export async function benchCluster(schedule: Schedule): Promise<void> {
  if (!hasRedisServer()) {
    console.log('\nredis-server is not installed: skipping the Redis Cluster benchmark.');
    return;
  }
  const cluster = await OwnRedisCluster.start();
  const cache = new TagCache({ store: { cluster: { rootNodes: cluster.rootNodes } }, namespace: 'bench-cluster' });
  const client = createCluster({ rootNodes: cluster.rootNodes.map((url) => ({ url })) });
  try {
    await client.connect();
    const payload = JSON.stringify(makeProduct(1));
    const rawKeys = Array.from({ length: CALLERS }, (_, i) => `raw:${i}`);
    await Promise.all(rawKeys.map((key) => client.set(key, payload)));
    for (let caller = 0; caller < CALLERS; caller++) await cache.wrap(`product:${caller}`, () => makeProduct(caller), { tags });
    let misses = 0;
    cache.on('miss', () => misses++);

    const hits = await compare([
      { name: 'raw cluster GET + JSON.parse', run: async () => JSON.parse((await client.get(rawKeys[0]))!) },
      { name: 'TagCache.wrap hit, 2 tags', run: () => cache.wrap('product:0', () => makeProduct(0), { tags }) },
    ], schedule);
    printSection('Redis Cluster (3 masters): hit, one at a time', statsTable(hits, hits[0]));

    const [raw, tagged] = await compareConcurrent([
      { name: `raw cluster GET + JSON.parse, ${CALLERS} callers`, run: async (caller) => JSON.parse((await client.get(rawKeys[caller]))!) },
      { name: `TagCache.wrap hit, 2 tags, ${CALLERS} callers`, run: (caller) => cache.wrap(`product:${caller}`, () => makeProduct(caller), { tags }) },
    ], { callers: CALLERS, rounds: 10, opsPerCaller: 40 });
    printSection(`Redis Cluster (3 masters): hit, ${CALLERS} concurrent callers`, throughputTable([raw, tagged], raw));
    if (misses > 0) throw new Error(`benchmark invalid: ${misses} of the measured hits missed`);

    const invalidations = await compare([
      { name: 'raw cluster SET', run: () => client.set('raw:token', String(Math.random())) },
      { name: 'invalidateTags, 1 tag', run: () => cache.invalidateTags(['Inv_A']) },
      { name: 'invalidateTags, 2 tags', run: () => cache.invalidateTags(['Inv_A', 'Inv_B']) },
    ], schedule);
    printSection('Redis Cluster (3 masters): invalidation, one at a time', statsTable(invalidations, invalidations[0]));
  } finally {
    await client.close().catch(() => undefined);
    await cache.close();
    await cluster.stop();
  }
}
