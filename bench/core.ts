/*
 * Core benchmark: a tagged hit (one caller at a time, and 64 at once) and an invalidation, on the
 * in-process store and on Redis, next to the raw operation a cache-less app would do with the same
 * payload in the same run; and the share of computations stored while writes keep invalidating.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Keyv } from 'keyv';
import { createClient } from 'redis';
import { Cached, TagCache, addCacheTags, registerTagCache } from '../lib/index.js';
import { compareConcurrent, type ConcurrentVariant } from './support/concurrent.js';
import { compare, type Schedule, type Stats, type Variant } from './support/measure.js';
import { makeProduct, type BenchProduct } from './support/payload.js';
import { deleteNamespace } from './support/redis-keys.js';
import { markdownTable, printSection, statsTable, throughputTable } from './support/report.js';
import { REDIS_URL, reachable, redisAddress } from '../test/support/servers.js';

/** The name under which each run's cache is registered for the @Cached service. */
const CACHE_NAME = 'bench-core';
const TARGET_RATIO = 1.2;
const TARGET_CONCURRENT_RATIO = 2.5;
const TARGET_MEMORY_RATIO = 2;
const TARGET_STORED = 0.95;
const CALLERS = 64;
const CONCURRENT = { callers: CALLERS, rounds: 10, opsPerCaller: 40 };

class ProductService {
  @Cached({ cache: CACHE_NAME, tags: (id: number) => [`Product_${id}`, 'Catalog'] })
  async getProduct(id: number): Promise<BenchProduct> {
    return Promise.resolve(makeProduct(id));
  }
}

const tagsOf = (id: number): string[] => [`Product_${id}`, 'Catalog'];

/** The store keys one hit of product 1 reads: its entry, its two tags' versions and the namespace's sequence. */
const hitKeys = (namespace: string): string[] => [`${namespace}:e:product:1`, ...tagsOf(1).map((tag) => `{${namespace}}:t:${tag}`), `{${namespace}}:s`];

/** Not the cache: the one read a hit makes, through Keyv alone, to show where the time goes. */
async function keyvGetMany(cache: TagCache): Promise<Variant> {
  const keyv = await cache.store();
  const keys = hitKeys(cache.namespace);
  return { name: '(Keyv.getMany entry + 2 tags + sequence)', run: () => keyv.getMany(keys) };
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

/** 64 callers at once, each on a warm entry of its own, next to the raw read of the same payloads. */
async function measureConcurrent(label: string, cache: TagCache, raw: ConcurrentVariant): Promise<[number, number]> {
  for (let caller = 0; caller < CALLERS; caller++) await cache.wrap(`product:${caller}`, () => makeProduct(caller), { tags: tagsOf(caller) });
  let misses = 0;
  const off = cache.on('miss', () => misses++);
  const tagged: ConcurrentVariant = { name: `TagCache.wrap hit, 2 tags, ${CALLERS} callers`, run: (caller) => cache.wrap(`product:${caller}`, () => makeProduct(caller), { tags: tagsOf(caller) }) };
  const [rawStats, taggedStats] = await compareConcurrent([raw, tagged], CONCURRENT);
  off();
  if (misses > 0) throw new Error(`benchmark invalid: ${misses} of the measured concurrent hits missed`);
  printSection(`${label}: hit, ${CALLERS} concurrent callers`, throughputTable([rawStats, taggedStats], rawStats));
  return [rawStats.opsPerSec, taggedStats.opsPerSec];
}

/**
 * The share of page computations stored while every write invalidates a tag the page learns:
 * each write returns 5-50 ms before the next computation starts, none lands while it runs. The
 * page learns the tag from a nested cached call, or after reading (`addCacheTags`, as a tracked load).
 */
async function storedUnderWrites(make: () => TagCache, computations: number): Promise<string[][]> {
  const rows: string[][] = [];
  for (const [how, page] of [
    ['nested cached call', (cache: TagCache) => cache.wrap('page', async () => ({ list: await cache.wrap('list', () => [1, 2, 3], { tags: ['Photo'] }) }))],
    ['addCacheTags after the read', (cache: TagCache) => cache.wrap('page', () => ({ list: [1, 2, 3], learned: addCacheTags('Photo') }))],
  ] as const) {
    const cache = make();
    let stored = 0;
    cache.on('set', ({ key }) => key === 'page' && stored++);
    let seed = 7;
    for (let i = 0; i < computations; i++) {
      await cache.invalidateTags(['Photo']);
      seed = (seed * 1103515245 + 12345) % 2147483648;
      await sleep(5 + (seed % 46));
      await page(cache);
    }
    await cache.close();
    rows.push([how, String(computations), `${((stored / computations) * 100).toFixed(1)} %`]);
  }
  return rows;
}

function printStored(label: string, rows: string[][]): number {
  printSection(`${label}: computations stored while writes keep invalidating (each write returns 5-50 ms before the next computation)`, markdownTable(['page learns the tag through', 'computations', 'stored'], rows));
  return Math.min(...rows.map((r) => parseFloat(r[2]) / 100));
}

async function benchMemory(schedule: Schedule, computations: number): Promise<void> {
  const cache = new TagCache({ namespace: `bench-${randomUUID()}` });
  const raw = new Map<string, string>([['product:1', JSON.stringify(makeProduct(1))]]);
  const rawHit: Variant = { name: 'raw Map.get + JSON.parse', run: () => Promise.resolve(JSON.parse(raw.get('product:1')!)) };
  const rawSet: Variant = { name: 'raw Map.set', run: () => Promise.resolve(raw.set('token', randomUUID())) };
  const stats = await measure('Memory', cache, rawHit, rawSet, [await keyvGetMany(cache)], schedule);
  const texts = Array.from({ length: CALLERS }, (_, i) => JSON.stringify(makeProduct(i)));
  await measureConcurrent('Memory', cache, { name: `raw Map.get + JSON.parse, ${CALLERS} callers`, run: (caller) => Promise.resolve(JSON.parse(texts[caller])) });
  await cache.close();
  reportTarget('an in-process hit', TARGET_MEMORY_RATIO, stats[0], stats.find((s) => s.name.startsWith('TagCache.wrap'))!);
  const stored = printStored('Memory', await storedUnderWrites(() => new TagCache({ namespace: `bench-${randomUUID()}` }), computations));
  printStored(
    'A Keyv over a Map (a store that cannot order: the clock margin)',
    await storedUnderWrites(() => new TagCache({ store: new Keyv(), namespace: `bench-${randomUUID()}` }), Math.ceil(computations / 4)),
  );
  reportShare('Memory', stored);
}

async function benchRedis(schedule: Schedule, computations: number): Promise<void> {
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
    const rawKeys = Array.from({ length: CALLERS }, (_, i) => `${namespace}:raw:${i}`);
    for (let i = 0; i < CALLERS; i++) await client.set(rawKeys[i], JSON.stringify(makeProduct(i)));
    const [rawOps, taggedOps] = await measureConcurrent('Redis', cache, {
      name: `raw GET + JSON.parse, ${CALLERS} callers`,
      run: async (caller) => JSON.parse((await client.get(rawKeys[caller]))!),
    });
    reportTarget('a tagged Redis hit, one caller at a time,', TARGET_RATIO, stats[0], stats.find((s) => s.name.startsWith('TagCache.wrap'))!);
    const ratioAt64 = rawOps / taggedOps;
    console.log(`\nTarget: with ${CALLERS} concurrent callers, a tagged Redis hit at most ${TARGET_CONCURRENT_RATIO}x the time of a raw GET. ${ratioAt64.toFixed(2)}x: ${ratioAt64 <= TARGET_CONCURRENT_RATIO ? 'met' : 'NOT met'}.`);
    reportShare('Redis', printStored('Redis', await storedUnderWrites(() => new TagCache({ store: REDIS_URL, namespace: `${namespace}-w${randomUUID()}` }), computations)));
  } finally {
    await client.close();
    await cache.close();
    await deleteNamespace(REDIS_URL, namespace);
  }
}

function reportTarget(what: string, target: number, raw: Stats, tagged: Stats): void {
  const mean = tagged.meanUs / raw.meanUs;
  const median = tagged.p50Us / raw.p50Us;
  const verdict = mean <= target && median <= target ? 'met' : 'NOT met';
  console.log(`\nTarget: ${what} at most ${target}x ${raw.name}. Mean ${mean.toFixed(2)}x, p50 ${median.toFixed(2)}x: ${verdict}.`);
}

function reportShare(label: string, stored: number): void {
  console.log(`\nTarget (${label}): at least ${TARGET_STORED * 100} % of the computations stored while writes keep invalidating. ${(stored * 100).toFixed(1)} %: ${stored >= TARGET_STORED ? 'met' : 'NOT met'}.`);
}

/** The core benchmark: memory, then Redis. `computations`: page computations of the hit-rate rows. */
export async function benchCore(schedule: Schedule, computations = 60): Promise<void> {
  await benchMemory(schedule, computations);
  await benchRedis(schedule, computations);
}
