/*
 * Three processes share one redis-server of the test's own and one SQLite file: one writes and
 * reads one row through the cache, two only read it (their store calls are all reads, so their
 * circuit stays closed and they keep serving hits), while the test breaks Redis for real: SIGSTOP, CLIENT PAUSE WRITE,
 * maxmemory with noeviction, DEBUG SLEEP, and a kill with a restart. Every fault is shorter than the
 * workers' invalidationTimeoutMs, so every write must return acknowledged, and no read that starts
 * after a write returned, in any process, may get an older version. The processes' times are
 * compared on the machine's monotonic clock (test/support/machine-clock.ts says why not another).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { needs } from '../support/servers.js';
import { legPreloads } from '../support/leg-preloads.js';
import { machineNow as now } from '../support/machine-clock.js';
import { OwnRedis } from '../support/redis-server.js';
import { openSqlite } from './sqlite-file.js';

interface Log {
  /** When a read started, the version it got, which of the worker's readers made it. */
  reads: [number, number, number][];
  /** When a write returned, the version it wrote. */
  writes: [number, number][];
  rejected: number;
  /** The file the worker's keyv resolved to. */
  keyv: string;
}

const READERS = ['declared', 'nested', 'late'];

/** How many of `items` fall under each name `nameOf` gives. */
function countBy<T>(items: T[], nameOf: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[nameOf(item)] = (counts[nameOf(item)] ?? 0) + 1;
  return counts;
}

/**
 * The stale reads, said so that a failure points at its cause: how many started in each phase of
 * the faults (named by the fault applied last when the read started), in each process and through
 * each reader; when the first and the last started; and what the first got, in which process,
 * against which write.
 */
function staleReport(logs: Log[], phases: [string, number][]): string {
  const writes = logs.flatMap((l) => l.writes).sort((a, b) => a[0] - b[0]);
  const start = phases[0][1];
  const stale = logs
    .flatMap((l, worker) => l.reads.map(([startedAt, value, reader]) => ({ startedAt, value, reader, worker })))
    .map((read) => ({ ...read, newest: writes.filter(([returnedAt]) => returnedAt < read.startedAt).reduce((max, [, version]) => Math.max(max, version), -1) }))
    .filter((read) => read.newest > read.value)
    .sort((a, b) => a.startedAt - b.startedAt);
  if (stale.length === 0) return '';
  const phaseOf = (at: number): string => [...phases].reverse().find(([, from]) => from <= at)![0];
  const ms = (at: number): string => `+${Math.round(at - start)} ms`;
  const [first, last] = [stale[0], stale[stale.length - 1]];
  const returned = writes.find(([, version]) => version === first.newest)![0];
  return (
    `${stale.length} of ${logs.reduce((n, l) => n + l.reads.length, 0)} reads were older than a write that had returned; ` +
    `per phase ${JSON.stringify(countBy(stale, (read) => phaseOf(read.startedAt)))}, per worker ${JSON.stringify(countBy(stale, (read) => `${read.worker}`))}, ` +
    `per reader ${JSON.stringify(countBy(stale, (read) => READERS[read.reader]))}; phases began at ${phases.map(([name, at]) => `${name} ${ms(at)}`).join(', ')}; ` +
    `the first at ${ms(first.startedAt)}, in worker ${first.worker} through the ${READERS[first.reader]} reader, got ${first.value} while ${first.newest} had returned at ${ms(returned)}; ` +
    `the last at ${ms(last.startedAt)}`
  );
}

function runWorker(args: string[]): Promise<Log> {
  return new Promise((resolve, reject) => {
    // With a version leg's preloads: the workers are what must run on the leg's keyv.
    const child = spawn(process.execPath, [...legPreloads, join(__dirname, 'read-after-write-worker.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += String(chunk)));
    child.stderr.on('data', (chunk: Buffer) => (err += String(chunk)));
    // 'close', not 'exit': the process may exit before the last of its stdout has been read here.
    child.once('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Log) : reject(new Error(`worker exited with ${code}: ${err}`))));
  });
}

describe('Read after write across processes, under Redis faults', needs('redis'), () => {
  for (const [invalidation, how] of [
    ['after', 'invalidated after the write'],
    ['hold', 'held over the commit'],
  ] as const) it(`3 processes, faults injected, ${how}: no read that starts after a write returned gets an older version`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-raw-'));
    const file = join(dir, 'db.sqlite');
    const db = openSqlite(file);
    db.exec('PRAGMA journal_mode = WAL; CREATE TABLE item (id INTEGER PRIMARY KEY, v INTEGER NOT NULL); INSERT INTO item VALUES (1, 0);');
    db.close();
    const redis = await OwnRedis.start();
    try {
      // A namespace of this run's own: when the restart below finds its port taken (by a redis-server
      // another run started meanwhile), the workers talk to that server, and must not read its rows.
      const namespace = `raw-${randomUUID()}`;
      const workers = ['writer', 'reader', 'reader'].map((role, seed) => runWorker([redis.url, file, namespace, String(seed + 1), '4000', role, invalidation]));
      // When each fault began (and ended), for the report of stale reads.
      const phases: [string, number][] = [['no fault', now()]];
      const phase = (name: string): number => phases.push([name, now()]);
      const faults = (async () => {
        await delay(300);
        redis.pause();
        phase('SIGSTOP');
        await delay(300);
        redis.resume();
        phase('SIGCONT');
        await delay(300);
        phase('CLIENT PAUSE WRITE 300 ms');
        await redis.command('CLIENT', 'PAUSE', '300', 'WRITE');
        await delay(600);
        phase('maxmemory 1');
        await redis.command('CONFIG', 'SET', 'maxmemory', '1');
        await delay(300);
        await redis.command('CONFIG', 'SET', 'maxmemory', '0');
        phase('maxmemory 0');
        await delay(300);
        phase('DEBUG SLEEP 0.3');
        void redis.command('DEBUG', 'SLEEP', '0.3').catch(() => undefined);
        await delay(600);
        phase('killed');
        await redis.stop();
        await delay(300);
        phase('restarting');
        await redis.start();
        phase('restarted');
      })();
      const logs = await Promise.all(workers);
      await faults;
      const writes = logs.flatMap((l) => l.writes);
      const reads = logs.flatMap((l) => l.reads);
      assert.deepEqual(logs.map((l) => l.keyv), logs.map(() => require.resolve('keyv')), "the workers ran this process's keyv (a leg's, through its preloads)");
      assert.equal(logs.reduce((n, l) => n + l.rejected, 0), 0, 'every write was acknowledged within invalidationTimeoutMs');
      assert.ok(writes.length > 30 && reads.length > 200, `enough traffic: ${writes.length} writes, ${reads.length} reads`);
      assert.equal(staleReport(logs, phases), '');
    } finally {
      redis.resume();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
