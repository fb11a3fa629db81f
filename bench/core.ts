/*
 * Core benchmark (issue 2): a tagged hit and an invalidation, on the in-process store and on Redis,
 * next to the raw operation a cache-less app would do with the same payload in the same run.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { Cached, TagCache, registerTagCache } from '../lib/index.js';
import { compare, type Schedule, type Stats, type Variant } from './support/measure.js';
import { makeProduct, type BenchProduct } from './support/payload.js';
import { deleteNamespace } from './support/redis-keys.js';
import { printSection, statsTable } from './support/report.js';
import { REDIS_URL, reachable, redisAddress } from '../test/support/servers.js';

/** The name under which each run's cache is registered for the @Cached service. */
const CACHE_NAME = 'bench-core';
const TARGET_RATIO = 1.5;

class ProductService {
  @Cached({ cache: CACHE_NAME, tags: (id: number) => [`Product_${id}`, 'Catalog'] })
  async getProduct(id: number): Promise<BenchProduct> {
    return Promise.resolve(makeProduct(id));
  }
}

const tagsOf = (id: number): string[] => [`Product_${id}`, 'Catalog'];

/** The store keys one hit of product 1 reads: its entry and its two tags' versions. */
const hitKeys = (namespace: string): string[] => [`${namespace}:e:product:1`, ...tagsOf(1).map((tag) => `${namespace}:t:${tag}`)];

/** Not the cache: the one read a hit makes, through Keyv alone, to show where the time goes. */
async function keyvGetMany(cache: TagCache): Promise<Variant> {
  const keyv = await cache.store();
  const keys = hitKeys(cache.namespace);
  return { name: '(Keyv.getMany entry + 2 tags)', run: () => keyv.getMany(keys) };
}

/** A warm entry read through `wrap` and through `@Cached`; `assertAllHit` proves no call missed. */
async function hitVariants(cache: TagCache): Promise<{ variants: Variant[]; assertAllHit: () => void }> {
  registerTagCache(CACHE_NAME, cache);
  const service = new ProductService();
  const id = 1;
  const key = `product:${id}`;
  await cache.wrap(key, () => makeProduct(id), { tags: tagsOf(id) });
  await service.getProduct(id);
  let misses = 0;
  const off = cache.on('miss', () => misses++);
  return {
    variants: [
      { name: 'TagCache.wrap hit, 2 tags', run: () => cache.wrap(key, () => makeProduct(id), { tags: tagsOf(id) }) },
      { name: '@Cached method hit, 2 tags', run: () => service.getProduct(id) },
    ],
    assertAllHit: () => {
      off();
      if (misses > 0) throw new Error(`benchmark invalid: ${misses} of the measured hits missed`);
    },
  };
}

function invalidationVariants(cache: TagCache): Variant[] {
  return [
    { name: 'invalidateTags, 1 tag', run: () => cache.invalidateTags(['Inv_A']) },
    { name: 'invalidateTags, 2 tags', run: () => cache.invalidateTags(['Inv_A', 'Inv_B']) },
  ];
}

/** Prints the hit and invalidation comparisons (the first variant of each is the baseline). */
async function measure(label: string, cache: TagCache, rawHit: Variant, rawWrite: Variant, diagnostics: Variant[], schedule: Schedule): Promise<Stats[]> {
  const { variants, assertAllHit } = await hitVariants(cache);
  const hitStats = await compare([rawHit, ...variants, ...diagnostics], schedule);
  assertAllHit();
  printSection(`${label}: hit, one at a time`, statsTable(hitStats, hitStats[0]));
  const invalidationStats = await compare([rawWrite, ...invalidationVariants(cache)], schedule);
  printSection(`${label}: invalidation, one at a time`, statsTable(invalidationStats, invalidationStats[0]));
  return hitStats;
}

async function benchMemory(schedule: Schedule): Promise<void> {
  const cache = new TagCache({ namespace: `bench-${randomUUID()}` });
  const raw = new Map<string, string>([['product:1', JSON.stringify(makeProduct(1))]]);
  const rawHit: Variant = { name: 'raw Map.get + JSON.parse', run: () => Promise.resolve(JSON.parse(raw.get('product:1')!)) };
  const rawSet: Variant = { name: 'raw Map.set', run: () => Promise.resolve(raw.set('token', randomUUID())) };
  await measure('Memory', cache, rawHit, rawSet, [await keyvGetMany(cache)], schedule);
  await cache.close();
}

async function benchRedis(schedule: Schedule): Promise<void> {
  const { host, port } = redisAddress(REDIS_URL);
  if (!(await reachable(host, port))) {
    console.log(`\nRedis is not reachable at ${host}:${port}: skipping the Redis core benchmark.`);
    return;
  }
  const namespace = `bench-${randomUUID()}`;
  const cache = new TagCache({ store: REDIS_URL, namespace });
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  const rawKey = `${namespace}:raw`;
  await client.set(rawKey, JSON.stringify(makeProduct(1)));
  const entryAndTags = hitKeys(namespace);
  try {
    const rawGet: Variant = { name: 'raw GET + JSON.parse', run: async () => JSON.parse((await client.get(rawKey))!) };
    // Not the cache: the same one round trip with node-redis alone.
    const rawMget: Variant = { name: '(raw MGET entry + 2 tags + JSON.parse)', run: async () => JSON.parse((await client.mGet(entryAndTags))[0]!) };
    const rawSet: Variant = { name: 'raw SET', run: () => client.set(`${namespace}:raw-token`, randomUUID()) };
    const stats = await measure('Redis', cache, rawGet, rawSet, [rawMget, await keyvGetMany(cache)], schedule);
    reportTarget(stats[0], stats.find((s) => s.name.startsWith('TagCache.wrap'))!);
  } finally {
    await client.close();
    await cache.close();
    await deleteNamespace(REDIS_URL, namespace);
  }
}

function reportTarget(raw: Stats, tagged: Stats): void {
  const mean = tagged.meanUs / raw.meanUs;
  const median = tagged.p50Us / raw.p50Us;
  const verdict = mean <= TARGET_RATIO && median <= TARGET_RATIO ? 'met' : 'NOT met';
  console.log(`\nTarget (issue 2): a tagged Redis hit at most ${TARGET_RATIO}x a raw GET. Mean ${mean.toFixed(2)}x, p50 ${median.toFixed(2)}x: ${verdict}.`);
}

/** The core benchmark: memory, then Redis. */
export async function benchCore(schedule: Schedule): Promise<void> {
  await benchMemory(schedule);
  await benchRedis(schedule);
}
