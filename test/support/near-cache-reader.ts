/*
 * One reading process of the near-cache tests and benchmark: reads one value through a TagCache with
 * a near cache, tagged `Item`, whose source is a plain Redis key (`<namespace>:data`) the writer sets
 * before it invalidates `Item`; prints every read as JSON: `[start, value, 1 if the near cache served it]`.
 * argv: redis URL, namespace, how long to run (ms), maxLagMs, and the times (ms after the start,
 * comma-separated, may be empty) at which it blocks its own event loop for `blockMs` (last argument):
 * a subscriber that cannot read its messages.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { createClient } from 'redis';
import { TagCache } from '../../lib/index.js';

const [url, namespace, runMs, maxLagMs, blockAtText, blockMs] = process.argv.slice(2);
const now = (): number => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const db = createClient({ url });
  db.on('error', () => undefined);
  await db.connect();
  const cache = new TagCache({ store: url, namespace, nearCache: { maxLagMs: Number(maxLagMs) }, timeoutMs: 500, circuitBreaker: { resetAfterMs: 50 } });
  const source = async (): Promise<number> => Number(await db.get(`${namespace}:data`));
  const blocks = blockAtText ? blockAtText.split(',').map(Number) : [];
  const reads: [number, number, number][] = [];
  const started = performance.now();
  process.stdout.write('ready\n');
  while (performance.now() - started < Number(runMs)) {
    if (blocks.length > 0 && performance.now() - started >= blocks[0]) {
      blocks.shift();
      const until = performance.now() + Number(blockMs);
      while (performance.now() < until); // busy: timers and sockets wait, as under a CPU-bound request
    }
    const start = now();
    const nearBefore = cache.stats().nearHits;
    const value = await cache.wrap('item', source, { tags: ['Item'] });
    reads.push([start, value, cache.stats().nearHits - nearBefore]);
    await yieldToLoop();
  }
  await cache.close();
  await db.close();
  process.stdout.write(JSON.stringify(reads));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
