/*
 * One process of the multi-process read-after-write test (read-after-write.test.ts): reads and
 * writes one row of a shared SQLite file through a TagCache on a shared Redis, and prints what it
 * did as JSON: when each successful write returned with which version, and what each read that
 * started when got through which of its readers (0 declared, 1 nested, 2 late). Times are on the
 * machine's monotonic clock, which the test and the other workers read alike; and which keyv it ran.
 * argv: redis URL, database file, namespace, seed, how long to run (ms), role (`writer`: half the
 * operations write; `reader`: reads only), and how a write invalidates (`after`: `invalidateTags`
 * once the row is written; `hold`: in a transaction, its tags held just before its commit, then
 * the hold's `invalidate()`, as the ORM integrations do); at most 4000 operations.
 */
import { TagCache, addCacheTags } from '../../lib/index.js';
import { machineNow as now } from '../support/machine-clock.js';
import { openSqlite } from './sqlite-file.js';

const [url, file, namespace, seedText, runMs, role, invalidation] = process.argv.slice(2);

let seed = Number(seedText);
const random = (): number => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

async function main(): Promise<void> {
  const db = openSqlite(file);
  const cache = new TagCache({
    store: url,
    namespace,
    timeoutMs: 150,
    invalidationTimeoutMs: 4000,
    onInvalidationTimeout: 'reject',
    circuitBreaker: { resetAfterMs: 100 },
    retry: { initialDelayMs: 20, maxDelayMs: 200 },
  });
  const version = (): number => (db.prepare('SELECT v FROM item WHERE id = 1').get() as { v: number }).v;
  const reads: [number, number, number][] = [];
  const writes: [number, number][] = [];
  let rejected = 0;
  const readers = [
    () => cache.wrap('declared', version, { tags: ['Item'] }),
    () => cache.wrap('nested', async () => cache.wrap('inner', version, { tags: ['Item'] })),
    () => cache.wrap('late', () => {
      const v = version();
      addCacheTags('Item');
      return v;
    }),
  ];
  const until = now() + Number(runMs);
  for (let i = 0; i < 4000 && now() < until; i++) {
    if (role === 'writer' && random() < 0.5) {
      if (invalidation === 'hold') db.exec('BEGIN');
      const written = (db.prepare('UPDATE item SET v = v + 1 WHERE id = 1 RETURNING v').get() as { v: number }).v;
      const hold = invalidation === 'hold' ? cache.holdTags(['Item']) : undefined;
      if (hold) {
        // The commit a moment later, as a database's round trip: readers meanwhile read the row before it (WAL).
        await new Promise((resolve) => setTimeout(resolve, random() * 2));
        db.exec('COMMIT');
      }
      try {
        await (hold ? hold.invalidate() : cache.invalidateTags(['Item']));
        writes.push([now(), written]);
      } catch {
        rejected += 1;
      }
    } else {
      const startedAt = now();
      const reader = Math.floor(random() * readers.length);
      reads.push([startedAt, await readers[reader](), reader]);
    }
    await new Promise((resolve) => setTimeout(resolve, random() * 4));
  }
  await cache.close();
  db.close();
  process.stdout.write(JSON.stringify({ reads, writes, rejected, keyv: require.resolve('keyv') }));
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exitCode = 1;
});
