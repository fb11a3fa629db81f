/*
 * Runs near-cache readers in processes of their own against one writer in this process, and judges
 * every read by the writes that had returned when it started (test/support/near-cache-reader.ts).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { createClient } from 'redis';
import { TagCache } from '../../lib/index.js';
import { legPreloads } from './leg-preloads.js';

/** A read: when it started (ms since epoch), the version it got, 1 if the near cache served it. */
export type Read = [start: number, value: number, near: number];

/** What the reads of one run show. */
export interface Staleness {
  reads: number;
  nearHits: number;
  writes: number;
  /** Reads that got a version older than a write that had returned when they started. */
  stale: number;
  /** Of those, the ones that started more than `maxLagMs` after that write returned. */
  beyondBound: number;
  /** The longest time between a write returning and a read that started after it still getting an older version (ms). */
  longestMs: number;
}

export interface RunOptions {
  url: string;
  namespace: string;
  readers: number;
  runMs: number;
  maxLagMs: number;
  /** When each reader blocks its event loop (ms after its start), and for how long. */
  blockAtMs?: number[];
  blockMs?: number;
  /** Applied by the test while the processes run (faults), given the elapsed time base. */
  during?: () => Promise<void>;
  /** Writes as the ORM integrations do with a transaction: the tags held before the source changes, invalidated after (default false). */
  holds?: boolean;
}

const now = (): number => performance.timeOrigin + performance.now();

function startReader(args: string[]): { ready: Promise<void>; done: Promise<Read[]> } {
  const child = spawn(process.execPath, [...legPreloads, join(__dirname, 'near-cache-reader.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += String(chunk);
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (err += String(chunk)));
  const done = new Promise<Read[]>((resolve, reject) => {
    // 'close', not 'exit': the process may exit before its last megabytes of stdout have been read here.
    child.once('close', (code) => (code === 0 ? resolve(JSON.parse(out.slice('ready\n'.length)) as Read[]) : reject(new Error(`reader exited with ${code}: ${err}`))));
  });
  return { ready, done };
}

/** Runs the readers while this process writes (set the source, then invalidate `Item`; or hold it, set, and invalidate the hold) every few ms. */
export async function runNearCacheReaders(options: RunOptions): Promise<Staleness & { perReader: Read[][] }> {
  const { url, namespace, runMs, maxLagMs } = options;
  const db = createClient({ url });
  db.on('error', () => undefined);
  await db.connect();
  const writer = new TagCache({ store: url, namespace, invalidationTimeoutMs: 4000, timeoutMs: 500 });
  const dataKey = `${namespace}:data`;
  let version = 0;
  await db.set(dataKey, String(version));
  const readers = Array.from({ length: options.readers }, () => startReader([url, namespace, String(runMs), String(maxLagMs), (options.blockAtMs ?? []).join(','), String(options.blockMs ?? 0)]));
  const writes: [number, number][] = [];
  try {
    await Promise.all(readers.map((reader) => reader.ready));
    const until = performance.now() + runMs;
    const faults = options.during?.();
    while (performance.now() < until) {
      version++;
      if (options.holds) {
        const hold = writer.holdTags(['Item']);
        await db.set(dataKey, String(version)); // the commit
        await hold.invalidate();
      } else {
        await db.set(dataKey, String(version));
        await writer.invalidateTags(['Item']);
      }
      writes.push([now(), version]);
      await delay(5 + (version % 7) * 3);
    }
    await faults;
    const perReader = await Promise.all(readers.map((reader) => reader.done));
    return { ...judge(perReader.flat(), writes, maxLagMs), perReader };
  } finally {
    await writer.close();
    await db.close();
  }
}

/** Judges reads by the writes that had returned when each started (`writes`: return time, version; in order). */
export function judge(reads: readonly Read[], writes: readonly [number, number][], maxLagMs: number): Staleness {
  const result: Staleness = { reads: reads.length, nearHits: 0, writes: writes.length, stale: 0, beyondBound: 0, longestMs: 0 };
  for (const [start, value, near] of reads) {
    result.nearHits += near;
    // The first write newer than the value read: when it returned, the value became stale.
    const newer = writes.find(([, v]) => v > value);
    if (!newer || newer[0] >= start) continue;
    const lag = start - newer[0];
    result.stale++;
    if (lag > maxLagMs) result.beyondBound++;
    if (lag > result.longestMs) result.longestMs = lag;
  }
  return result;
}
