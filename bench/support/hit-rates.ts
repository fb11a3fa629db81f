/*
 * The query cache benchmarks' mixed workload, one driver for both ORMs: 90 % reads of a random
 * user's photos, 10 % writes of a random user's new photo, each read cached twice over the same
 * operations, with the query cache's tags and under the type-level tag alone. A fixed generator:
 * both variants, both ORMs and every rerun see one sequence.
 */
import type { TagCache } from '../../lib/index.js';
import { markdownTable, printSection } from './report.js';

export const USERS = 100;
export const PHOTOS_PER_USER = 5;

function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

/** What the workload runs for one ORM; `typeOnlyKey` is the key its type-level variant caches under. */
export interface HitRateWorkload<User> {
  users: readonly User[];
  /** The read with the query cache (`cache: true`): its keys start with `query:`. */
  read(user: User): Promise<unknown>;
  /** The same read as plain data, for `TagCache.wrap` under the type-level tag alone. */
  plainRead(user: User): Promise<unknown>;
  typeTag: string;
  keyOf(user: User): string;
  write(user: User, i: number): Promise<unknown>;
  /** How the section calls the write ("saves", "inserts"). */
  writes: string;
}

/** Runs `operations` of the workload and prints the hit rates of both variants. */
export async function printHitRates<User>(title: string, cache: TagCache, operations: number, w: HitRateWorkload<User>): Promise<void> {
  const counts = { precise: { reads: 0, hits: 0 }, typeOnly: { reads: 0, hits: 0 } };
  const off = cache.on('hit', ({ key }) => {
    if (key.startsWith('query:')) counts.precise.hits++;
    else if (key.startsWith('type-only:')) counts.typeOnly.hits++;
  });
  const next = random(42);
  let writes = 0;
  for (let i = 0; i < operations; i++) {
    const user = w.users[Math.floor(next() * w.users.length)];
    if (next() < 0.1) {
      await w.write(user, i);
      writes++;
      continue;
    }
    await w.read(user);
    counts.precise.reads++;
    await cache.wrap(`type-only:${w.keyOf(user)}`, () => w.plainRead(user), { tags: [w.typeTag] });
    counts.typeOnly.reads++;
  }
  off();
  const rate = (c: { reads: number; hits: number }) => `${((100 * c.hits) / c.reads).toFixed(1)} %`;
  printSection(
    `${title}: ${operations} operations, 90 % reads of one of ${USERS} users' photos, 10 % ${w.writes} of a photo (${writes} ${w.writes})`,
    markdownTable(['cached under', 'reads', 'hits', 'hit rate'], [
      ['field tags (`cache: true`)', String(counts.precise.reads), String(counts.precise.hits), rate(counts.precise)],
      ['the type-level tag alone', String(counts.typeOnly.reads), String(counts.typeOnly.hits), rate(counts.typeOnly)],
    ]),
  );
}
