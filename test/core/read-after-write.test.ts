/*
 * Three processes share one redis-server of the test's own and one SQLite file: one writes and
 * reads one row through the cache, two only read it (their store calls are all reads, so their
 * circuit stays closed and they keep serving hits), while the test breaks Redis for real: SIGSTOP, CLIENT PAUSE WRITE,
 * maxmemory with noeviction, DEBUG SLEEP, and a kill with a restart. Every fault is shorter than the
 * workers' invalidationTimeoutMs, so every write must return acknowledged, and no read that starts
 * after a write returned, in any process, may get an older version.
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
import { OwnRedis } from '../support/redis-server.js';
import { openSqlite } from './sqlite-file.js';

interface Log {
  reads: [number, number][];
  writes: [number, number][];
  rejected: number;
}

function runWorker(args: string[]): Promise<Log> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, 'read-after-write-worker.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += String(chunk)));
    child.stderr.on('data', (chunk: Buffer) => (err += String(chunk)));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Log) : reject(new Error(`worker exited with ${code}: ${err}`))));
  });
}

describe('Read after write across processes, under Redis faults', needs('redis'), () => {
  it('3 processes, faults injected: no read that starts after a write returned gets an older version', async () => {
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
      const workers = ['writer', 'reader', 'reader'].map((role, seed) => runWorker([redis.url, file, namespace, String(seed + 1), '4000', role]));
      const faults = (async () => {
        await delay(300);
        redis.pause();
        await delay(300);
        redis.resume();
        await delay(300);
        await redis.command('CLIENT', 'PAUSE', '300', 'WRITE');
        await delay(600);
        await redis.command('CONFIG', 'SET', 'maxmemory', '1');
        await delay(300);
        await redis.command('CONFIG', 'SET', 'maxmemory', '0');
        await delay(300);
        void redis.command('DEBUG', 'SLEEP', '0.3').catch(() => undefined);
        await delay(600);
        await redis.stop();
        await delay(300);
        await redis.start();
      })();
      const logs = await Promise.all(workers);
      await faults;
      const writes = logs.flatMap((l) => l.writes).sort((a, b) => a[0] - b[0]);
      const reads = logs.flatMap((l) => l.reads);
      assert.equal(logs.reduce((n, l) => n + l.rejected, 0), 0, 'every write was acknowledged within invalidationTimeoutMs');
      assert.ok(writes.length > 30 && reads.length > 200, `enough traffic: ${writes.length} writes, ${reads.length} reads`);
      const stale = reads.filter(([startedAt, value]) => writes.some(([returnedAt, version]) => returnedAt < startedAt && version > value));
      assert.deepEqual(stale.slice(0, 5), [], `${stale.length} of ${reads.length} reads were older than a write that had returned`);
    } finally {
      redis.resume();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
