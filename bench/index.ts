/*
 * `npm run bench`: every benchmark, one after the other, each printing markdown tables.
 * BENCH_SCALE (default 1) multiplies the number of measured operations.
 */
import 'reflect-metadata';
import { cpus, loadavg } from 'node:os';
import { benchCluster } from './cluster.js';
import { benchCore } from './core.js';
import { benchKeys } from './keys.js';
import { benchLock } from './lock.js';
import { benchMikroOrm } from './mikro-orm.js';
import { benchMikroQueryCache } from './mikro-query-cache.js';
import { benchNearCache } from './near-cache.js';
import { benchTracking } from './tracking.js';
import { benchQueryCache } from './query-cache.js';
import { benchTypeorm } from './typeorm.js';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const ops = (n: number): number => Math.max(1, Math.round(n * scale));

async function main(): Promise<void> {
  const started = Date.now();
  const load = loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`# cache-tags benchmarks — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} CPUs, load ${load}`);
  await benchCore({ warmupOps: 2000, rounds: 30, opsPerRound: ops(250) });
  await benchCluster({ warmupOps: 2000, rounds: 30, opsPerRound: ops(250) });
  await benchNearCache({ warmupOps: 2000, rounds: 30, opsPerRound: ops(250) });
  await benchKeys({ warmupOps: 2000, rounds: 30, opsPerRound: ops(250) });
  await benchLock({ warmupOps: 200, rounds: 20, opsPerRound: ops(50) });
  await benchTypeorm({ warmupOps: 50, rounds: 10, opsPerRound: ops(30) });
  await benchMikroOrm({ warmupOps: 50, rounds: 10, opsPerRound: ops(30) });
  await benchTracking({ warmupOps: 30, rounds: 10, opsPerRound: ops(20) });
  await benchQueryCache({ warmupOps: 50, rounds: 10, opsPerRound: ops(30) }, ops(2000));
  await benchMikroQueryCache({ warmupOps: 50, rounds: 10, opsPerRound: ops(30) }, ops(2000));
  console.log(`\n(total ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
