import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { TagCache } from '../../lib/index.js';

/**
 * A row of the "database" and the cached reads of it. Writes number the row's versions; `stale`
 * counts reads that returned a version older than the last write that had returned when the read
 * began (the guarantee "no stale read after a write").
 */
export class Row {
  value = 0;
  /** The version of the last write whose invalidation returned. */
  committed = 0;
  stale = 0;
  runs = 0;
  writes = 0;

  constructor(readonly tags: string[]) {}

  read(cache: TagCache, key = 'row'): Promise<number> {
    return cache.wrap(key, () => (this.runs++, this.value), { tags: this.tags });
  }

  /** A read that must see the last write that returned. */
  async check(cache: TagCache, key?: string): Promise<void> {
    const expected = this.committed;
    if ((await this.read(cache, key)) < expected) this.stale++;
  }

  async write(cache: TagCache, tags = this.tags): Promise<void> {
    const version = ++this.value;
    this.writes++;
    await cache.invalidateTags(tags);
    this.committed = Math.max(this.committed, version);
  }
}

/** What {@link Traffic.stop} counts. */
export interface TrafficCounts {
  reads: number;
  writes: number;
  /** Reads and writes that threw (a failed request). */
  failed: number;
  /** The first of those errors, to show when the test fails. */
  firstError: unknown;
}

/**
 * One writer and some readers on a {@link Row}, each in a loop of its own until {@link stop}:
 * a write, then a pause; a read (checked), then a pause. The caches play processes.
 */
export class Traffic {
  private running = true;
  private readonly counts: TrafficCounts = { reads: 0, writes: 0, failed: 0, firstError: undefined };
  private readonly loops: Promise<void>[];
  private attempts = 0;

  constructor(readonly row: Row, writer: TagCache, readers: readonly TagCache[], key = 'row', pauseMs = 2) {
    this.loops = [
      this.loop(() => row.write(writer).finally(() => this.attempts++), () => this.counts.writes++, pauseMs * 2),
      ...readers.map((reader) => this.loop(() => row.check(reader, key), () => this.counts.reads++, pauseMs)),
    ];
  }

  /**
   * Resolves once `count` more writes returned or threw, or after `giveUpMs` (then the test's
   * assertions say what went wrong, instead of a hang).
   */
  async writesDone(count: number, giveUpMs = 20_000): Promise<void> {
    const until = this.attempts + count;
    const giveUpAt = performance.now() + giveUpMs;
    while (this.attempts < until && performance.now() < giveUpAt) await delay(5);
  }

  async stop(): Promise<TrafficCounts> {
    this.running = false;
    await Promise.all(this.loops);
    return this.counts;
  }

  private async loop(step: () => Promise<void>, done: () => void, pauseMs: number): Promise<void> {
    while (this.running) {
      try {
        await step();
        done();
      } catch (error) {
        this.counts.failed++;
        this.counts.firstError ??= error;
      }
      await delay(pauseMs);
    }
  }
}
