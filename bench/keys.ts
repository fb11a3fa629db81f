/*
 * Keys benchmark (issue 10): what a hit costs when the entry is keyed by a version the caller
 * already holds (`rowVersion`, no tags) next to a hit validated by tag versions, on the in-process
 * store and on Redis, with the raw read of the same payload in the same run as the baseline.
 */
import { randomUUID } from 'node:crypto';
import { Cached, TagCache, registerTagCache } from '../lib/index.js';
import { compare, type Schedule, type Variant } from './support/measure.js';
import { makeProduct, type BenchProduct } from './support/payload.js';
import { withRedisBench } from './support/redis-run.js';
import { printSection, statsTable } from './support/report.js';

const CACHE_NAME = 'bench-keys';

interface Row {
  id: number;
  updatedAt: Date;
}

class ProductView {
  @Cached({ cache: CACHE_NAME, tags: (row: Row) => [`Product_${row.id}`, 'Catalog'] })
  async byTags(row: Row): Promise<BenchProduct> {
    return Promise.resolve(makeProduct(row.id));
  }

  @Cached({ cache: CACHE_NAME, key: (row: Row) => `product:${row.id}`, rowVersion: (row: Row) => row.updatedAt })
  async byRowVersion(row: Row): Promise<BenchProduct> {
    return Promise.resolve(makeProduct(row.id));
  }

  @Cached({ cache: CACHE_NAME, rowVersion: (row: Row) => row.updatedAt })
  async byRowVersionDefaultKey(row: Row): Promise<BenchProduct> {
    return Promise.resolve(makeProduct(row.id));
  }
}

async function measure(label: string, cache: TagCache, raw: Variant, schedule: Schedule): Promise<void> {
  registerTagCache(CACHE_NAME, cache);
  const view = new ProductView();
  const row: Row = { id: 1, updatedAt: new Date('2026-01-01T00:00:00Z') };
  await view.byTags(row);
  await view.byRowVersion(row);
  await view.byRowVersionDefaultKey(row);
  let misses = 0;
  const off = cache.on('miss', () => misses++);
  const stats = await compare(
    [
      raw,
      { name: '@Cached hit, 2 tags (entry + 2 versions read)', run: () => view.byTags(row) },
      { name: '@Cached hit, rowVersion + key function (entry only)', run: () => view.byRowVersion(row) },
      { name: '@Cached hit, rowVersion + default key (entry only)', run: () => view.byRowVersionDefaultKey(row) },
    ],
    schedule,
  );
  off();
  if (misses > 0) throw new Error(`benchmark invalid: ${misses} of the measured hits missed`);
  printSection(`${label}: hit cost by how the entry is validated, one at a time`, statsTable(stats, stats[0]));
}

async function benchMemory(schedule: Schedule): Promise<void> {
  const cache = new TagCache({ namespace: `bench-${randomUUID()}` });
  const raw = new Map<string, string>([['product:1', JSON.stringify(makeProduct(1))]]);
  await measure('Memory', cache, { name: 'raw Map.get + JSON.parse', run: () => Promise.resolve(JSON.parse(raw.get('product:1')!)) }, schedule);
  await cache.close();
}

function benchRedis(schedule: Schedule): Promise<void> {
  return withRedisBench('keys', async ({ cache, client, namespace }) => {
    const rawKey = `${namespace}:raw`;
    await client.set(rawKey, JSON.stringify(makeProduct(1)));
    await measure('Redis', cache, { name: 'raw GET + JSON.parse', run: async () => JSON.parse((await client.get(rawKey))!) }, schedule);
  });
}

/** The keys benchmark: memory, then Redis. */
export async function benchKeys(schedule: Schedule): Promise<void> {
  await benchMemory(schedule);
  await benchRedis(schedule);
}
