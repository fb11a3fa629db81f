/*
 * One process of the cross-process single flight test (cross-process-flight.test.ts): one `wrap`
 * of one key on a shared Redis, with the lock it is given, told when to start on stdin.
 * argv: redis URL, namespace, name, lock (JSON: `false` or lock options), how the source ends
 * (`sleep:<ms>`, or `hold`: until the test writes `finish`).
 * The source counts its runs in `<namespace>:runs` and reads the "database", `<namespace>:row`.
 * Lines on stdout: `ready`, `missed` (its lookup missed), `waiting` (it found the lock held),
 * `computing` (its source read the row),
 * `done <json>` (the value and the cache's stats).
 */
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { TagCache, type LockOptions } from '../../lib/index.js';

const [url, namespace, name, lockText, ending] = process.argv.slice(2);

async function main(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  const next = (expected: string): Promise<void> => new Promise((resolve) => {
    const listener = (line: string): void => {
      if (line !== expected) return;
      lines.off('line', listener);
      resolve();
    };
    lines.on('line', listener);
  });
  const db = createClient({ url });
  await db.connect();
  const cache = new TagCache({ store: url, namespace, timeoutMs: 2000 });
  await cache.getTagVersions(['Row']); // the connection is up before the start signal
  cache.on('miss', () => console.log('missed'));
  const go = next('go');
  console.log('ready');
  await go;
  const watch = setInterval(() => {
    if (cache.stats().lock.waited === 0) return;
    console.log('waiting');
    clearInterval(watch);
  }, 1);
  const value = await cache.wrap('page', async () => {
    await db.incr(`${namespace}:runs`);
    const row = await db.get(`${namespace}:row`);
    console.log('computing');
    if (ending === 'hold') await next('finish');
    else await sleep(Number(ending.slice('sleep:'.length)));
    return `${name}:${row ?? '0'}`;
  }, { tags: ['Row'], lock: JSON.parse(lockText) as boolean | LockOptions });
  clearInterval(watch);
  console.log(`done ${JSON.stringify({ value, stats: cache.stats() })}`);
  lines.close();
  await cache.close();
  await db.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
