/*
 * Near-cache benchmark: a near-cache hit next to a `Map.get` + `JSON.parse` of the same payload and
 * to a Redis hit without the near cache, in the same run, with BentoCache (L1 memory + L2 Redis + bus)
 * as the peer; an invalidation with the publish it now makes, next to BentoCache's `deleteByTag`; and the staleness window measured across processes (test/support/near-cache-staleness.ts)
 * under load and with readers whose event loops stall.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { TagCache } from '../lib/index.js';
import { compare, type Schedule, type Stats, type Variant } from './support/measure.js';
import { createBentoCache } from './support/bentocache.js';
import { makeProduct } from './support/payload.js';
import { deleteNamespace } from './support/redis-keys.js';
import { markdownTable, printSection, statsTable } from './support/report.js';
import { runNearCacheReaders } from '../test/support/near-cache-staleness.js';
import { REDIS_URL, reachable, redisAddress } from '../test/support/servers.js';

const TARGET_RATIO = 2;
const MAX_LAG_MS = 100;
const tags = ['Product_1', 'Catalog'];

/** The hit rows: near cache, Redis, raw. Every near-cache call must be a near hit, or the row says nothing. */
async function hits(namespace: string, schedule: Schedule): Promise<Stats[]> {
  const near = new TagCache({ store: REDIS_URL, namespace, nearCache: { maxLagMs: MAX_LAG_MS } });
  const redis = new TagCache({ store: REDIS_URL, namespace });
  const bento = await createBentoCache(REDIS_URL, `${namespace}-bento`);
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  const text = JSON.stringify(makeProduct(1));
  const map = new Map([['product:1', text]]);
  await client.set(`${namespace}:raw`, text);
  try {
    const read = (cache: TagCache) => () => cache.wrap('product:1', () => makeProduct(1), { tags });
    await read(redis)();
    const bentoRead = () => bento.getOrSet({ key: 'product:1', factory: () => makeProduct(1), tags });
    await bentoRead();
    while (near.stats().nearHits === 0) await read(near)();
    const before = near.stats();
    const variants: Variant[] = [
      { name: 'raw Map.get + JSON.parse', run: () => Promise.resolve(JSON.parse(map.get('product:1')!)) },
      { name: 'TagCache.wrap near-cache hit, 2 tags', run: read(near) },
      { name: 'TagCache.wrap Redis hit, 2 tags (no near cache)', run: read(redis) },
      { name: 'raw GET + JSON.parse', run: async () => JSON.parse((await client.get(`${namespace}:raw`))!) },
      { name: 'BentoCache getOrSet L1 hit, 2 tags (L1 memory + L2 Redis + bus)', run: bentoRead },
    ];
    const stats = await compare(variants, schedule);
    const after = near.stats();
    const calls = after.hits - before.hits;
    printSection('Near cache: hit, one at a time', statsTable(stats, stats[0]));
    const share = (after.nearHits - before.nearHits) / calls;
    console.log(`\nOf the ${calls} near-cache calls, ${(share * 100).toFixed(1)} % were near hits (the rest went to Redis: the channel was not confirmed within ${MAX_LAG_MS} ms, as when this loop kept the event loop busy).`);
    const nearHit = stats[1];
    const ratio = (s: Stats, base: Stats): string => `mean ${(s.meanUs / base.meanUs).toFixed(2)}x, p50 ${(s.p50Us / base.p50Us).toFixed(2)}x`;
    const met = nearHit.meanUs / stats[0].meanUs <= TARGET_RATIO && nearHit.p50Us / stats[0].p50Us <= TARGET_RATIO;
    console.log(`\nTarget: a near-cache hit at most ${TARGET_RATIO}x a Map.get + JSON.parse. ${ratio(nearHit, stats[0])}: ${met ? 'met' : 'NOT met'}. Against a Redis hit: ${ratio(nearHit, stats[2])}. Against a BentoCache L1 hit: ${ratio(nearHit, stats[4])}.`);
    return stats;
  } finally {
    await client.close();
    await near.close();
    await redis.close();
    await bento.disconnect();
  }
}

async function invalidations(namespace: string, schedule: Schedule): Promise<void> {
  const cache = new TagCache({ store: REDIS_URL, namespace, nearCache: { maxLagMs: MAX_LAG_MS } });
  const bento = await createBentoCache(REDIS_URL, `${namespace}-bento`);
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    const stats = await compare([
      { name: 'raw SET', run: () => client.set(`${namespace}:raw-token`, randomUUID()) },
      { name: 'invalidateTags, 1 tag (script with its PUBLISH)', run: () => cache.invalidateTags(['Inv_A']) },
      { name: 'invalidateTags, 2 tags', run: () => cache.invalidateTags(['Inv_A', 'Inv_B']) },
      { name: 'BentoCache deleteByTag, 1 tag', run: () => bento.deleteByTag({ tags: ['Inv_A'] }) },
      { name: 'BentoCache deleteByTag, 2 tags', run: () => bento.deleteByTag({ tags: ['Inv_A', 'Inv_B'] }) },
    ], schedule);
    printSection('Near cache: invalidation, one at a time (one subscriber each: this cache, this BentoCache)', statsTable(stats, stats[0]));
  } finally {
    await client.close();
    await cache.close();
    await bento.disconnect();
  }
}

/** Staleness across processes: readers with a near cache, one writer setting the source and invalidating every 5-23 ms. */
async function staleness(namespace: string): Promise<void> {
  const rows: string[][] = [];
  const cases: [string, Parameters<typeof runNearCacheReaders>[0]][] = [
    ['4 readers, steady', { url: REDIS_URL, namespace: `${namespace}-s1`, readers: 4, runMs: 3000, maxLagMs: MAX_LAG_MS }],
    [
      '4 readers, each stalling its event loop 150 ms three times (a slow subscriber)',
      { url: REDIS_URL, namespace: `${namespace}-s2`, readers: 4, runMs: 3000, maxLagMs: MAX_LAG_MS, blockAtMs: [500, 1300, 2100], blockMs: 150 },
    ],
    [
      '4 readers, each stalling its event loop 60 ms three times (under the bound)',
      { url: REDIS_URL, namespace: `${namespace}-s3`, readers: 4, runMs: 3000, maxLagMs: MAX_LAG_MS, blockAtMs: [500, 1300, 2100], blockMs: 60 },
    ],
  ];
  for (const [label, options] of cases) {
    const result = await runNearCacheReaders(options);
    rows.push([
      label,
      String(result.writes),
      String(result.reads),
      `${((result.nearHits / result.reads) * 100).toFixed(1)} %`,
      String(result.stale),
      result.longestMs.toFixed(1),
      String(result.beyondBound),
    ]);
  }
  printSection(
    `Near cache: staleness across processes (maxLagMs ${MAX_LAG_MS}; a read is stale when it started after a write returned and got an older value)`,
    markdownTable(['readers', 'writes', 'reads', 'near hits', 'stale reads', 'longest stale window, ms', 'stale beyond maxLagMs'], rows),
  );
}

/** The near-cache benchmark; skipped when Redis is not reachable. */
export async function benchNearCache(schedule: Schedule): Promise<void> {
  const { host, port } = redisAddress(REDIS_URL);
  if (!(await reachable(host, port))) {
    console.log(`\nRedis is not reachable at ${host}:${port}: skipping the near-cache benchmark.`);
    return;
  }
  const namespace = `bench-near-${randomUUID()}`;
  try {
    await hits(namespace, schedule);
    await invalidations(namespace, schedule);
    await staleness(namespace);
  } finally {
    await deleteNamespace(REDIS_URL, namespace);
  }
}
