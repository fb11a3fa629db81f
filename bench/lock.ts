/*
 * Cross-process single flight (`lock`) on Redis: what the lock adds to a miss, next to the same
 * miss without it and to a raw cache-aside miss (GET, then SET) in the same run; and, under a
 * stampede of K caches (each with its own connection and its own in-process single flight, as K
 * processes would have) missing one key at once, how many runs of the source the lock saves and
 * what it does to the time until the last caller has its value.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { TagCache } from '../lib/index.js';
import { compare, type Schedule } from './support/measure.js';
import { makeProduct } from './support/payload.js';
import { deleteNamespace } from './support/redis-keys.js';
import { markdownTable, printSection, ratio, statsTable } from './support/report.js';
import { REDIS_URL, reachable, redisAddress } from '../test/support/servers.js';

const TAGS = ['Product_1', 'Catalog'];
const STAMPEDE_CALLERS = 8;
const STAMPEDE_ROUNDS = 10;
const SOURCE_MS = 50;

/** Sequential misses (a fresh key each time): raw GET + SET, wrap without the lock, wrap with it. */
async function missCost(namespace: string, schedule: Schedule): Promise<void> {
  const plain = new TagCache({ store: REDIS_URL, namespace, ttl: 60_000 });
  const locked = new TagCache({ store: REDIS_URL, namespace, ttl: 60_000, lock: true });
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  let n = 0;
  try {
    const product = JSON.stringify(makeProduct(1));
    const stats = await compare([
      {
        name: 'raw GET (absent) + SET',
        run: async () => {
          const key = `${namespace}:raw:${n++}`;
          if ((await client.get(key)) === null) await client.set(key, product, { PX: 60_000 });
        },
      },
      { name: 'TagCache.wrap miss, 2 tags', run: () => plain.wrap(`m:${n++}`, () => makeProduct(1), { tags: TAGS }) },
      { name: 'TagCache.wrap miss, 2 tags, lock', run: () => locked.wrap(`m:${n++}`, () => makeProduct(1), { tags: TAGS }) },
    ], schedule);
    printSection('Redis: a miss with the cross-process lock, one at a time', statsTable(stats, stats[0]));
    const [, without, withLock] = stats;
    console.log(`\nThe lock's cost on a miss (a source that returns at once): mean ${ratio(withLock.meanUs, without.meanUs)}, p50 ${ratio(withLock.p50Us, without.p50Us)} the miss without it.`);
  } finally {
    await client.close();
    await Promise.all([plain.close(), locked.close()]);
  }
}

/** Runs of the source and time to the last value when {@link STAMPEDE_CALLERS} caches miss one key at once. */
async function stampede(namespace: string, lock: boolean): Promise<{ runs: number; meanMs: number }> {
  const caches = Array.from({ length: STAMPEDE_CALLERS }, () => new TagCache({ store: REDIS_URL, namespace, lock }));
  await Promise.all(caches.map((cache) => cache.getTagVersions(TAGS))); // connections up
  let runs = 0;
  const source = async (): Promise<unknown> => {
    runs++;
    await sleep(SOURCE_MS);
    return makeProduct(1);
  };
  let total = 0;
  try {
    for (let round = 0; round < STAMPEDE_ROUNDS; round++) {
      const started = performance.now();
      await Promise.all(caches.map((cache) => cache.wrap(`s:${round}`, source, { tags: TAGS })));
      total += performance.now() - started;
    }
  } finally {
    await Promise.all(caches.map((cache) => cache.close()));
  }
  return { runs, meanMs: total / STAMPEDE_ROUNDS };
}

async function stampedeRows(namespace: string): Promise<void> {
  // Alternated, so that machine noise falls on both alike.
  const sums = { without: { runs: 0, meanMs: 0 }, with: { runs: 0, meanMs: 0 } };
  for (let turn = 0; turn < 2; turn++) {
    for (const lock of turn === 0 ? [false, true] : [true, false]) {
      const result = await stampede(`${namespace}-${turn}-${lock}`, lock);
      const sum = lock ? sums.with : sums.without;
      sum.runs += result.runs;
      sum.meanMs += result.meanMs / 2;
    }
  }
  const stampedes = 2 * STAMPEDE_ROUNDS;
  printSection(
    `Redis: a stampede of ${STAMPEDE_CALLERS} caches (as ${STAMPEDE_CALLERS} processes) missing one key at once, a ${SOURCE_MS} ms source, ${stampedes} stampedes`,
    markdownTable(['lock', 'source runs per stampede', 'time to the last value, mean ms', 'time ratio'], [
      ['off', (sums.without.runs / stampedes).toFixed(2), sums.without.meanMs.toFixed(1), 'baseline'],
      ['on', (sums.with.runs / stampedes).toFixed(2), sums.with.meanMs.toFixed(1), ratio(sums.with.meanMs, sums.without.meanMs)],
    ]),
  );
  console.log(`\nSource runs saved by the lock: ${(((sums.without.runs - sums.with.runs) / sums.without.runs) * 100).toFixed(0)} % (${sums.without.runs} → ${sums.with.runs}).`);
}

/** The lock benchmark, on the tests' Redis (skipped when it is not reachable). */
export async function benchLock(schedule: Schedule): Promise<void> {
  const { host, port } = redisAddress(REDIS_URL);
  if (!(await reachable(host, port))) {
    console.log(`\nRedis is not reachable at ${host}:${port}: skipping the lock benchmark.`);
    return;
  }
  const namespace = `bench-lock-${randomUUID()}`;
  try {
    await missCost(namespace, schedule);
    await stampedeRows(namespace);
  } finally {
    await deleteNamespace(REDIS_URL, namespace);
  }
}
