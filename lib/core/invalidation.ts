import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { unique, type CacheParts } from './cache-parts.js';
import { CacheTagsError } from './errors.js';
import type { Settings } from './options.js';

/**
 * The write path: an invalidation returns once the store acknowledged it. While the store does
 * not answer it retries, within `invalidationTimeoutMs`; meanwhile (and after, until written) this
 * process serves and stores nothing under the tags. Past the bound the outcome is explicit: an
 * `error`-level report naming the tags and the worst-case staleness, and with
 * `onInvalidationTimeout: "reject"` a rejection.
 */
export class Invalidator {
  /** Invalidations whose caller was answered by a hold, still being written. */
  private readonly background = new Set<Promise<unknown>>();

  constructor(
    private readonly parts: CacheParts,
    private readonly settings: Settings,
  ) {}

  /**
   * Resolves whether the store acknowledged the invalidation within the bound. With `held` (the
   * acknowledgement of a hold of the tags that still stands, lib/core/tag-hold.ts), it is done, and
   * its `invalidate` event emitted, as soon as `held` resolves `true`: no process serves or stores
   * under a held version, so the invalidation's own round trip goes on in the background, reported
   * as any other if it fails. It is sent at once all the same: on the cache's one connection, a
   * read of this process issued after it sees its versions, and stores again.
   */
  async invalidate(tags: readonly string[], source: unknown, held?: Promise<boolean>): Promise<boolean> {
    const list = unique(tags);
    if (list.length === 0) return true;
    const { pending, events, counters } = this.parts;
    counters.invalidationCalls++;
    counters.invalidatedTags += list.length;
    const startedAt = pending.begin(list);
    const writing = this.writeWithin(list, this.settings.invalidationTimeoutMs).then(
      (written) => (pending.end(list, startedAt, written), written),
      (error: unknown) => {
        pending.end(list, startedAt, false);
        throw error;
      },
    );
    if (held && (await held)) {
      events.emit('invalidate', { tags: list, source, deferred: false });
      // A rejection here (onInvalidationTimeout "reject") has no caller left: it was reported.
      const rest: Promise<unknown> = writing
        .then((written) => written || this.unacknowledged(list))
        .catch(() => undefined)
        .finally(() => this.background.delete(rest));
      this.background.add(rest);
      return true;
    }
    const written = await writing;
    events.emit('invalidate', { tags: list, source, deferred: !written });
    if (!written) this.unacknowledged(list);
    return written;
  }

  /** Resolves once the invalidations still being written after a hold answered their caller are done. */
  async settled(): Promise<void> {
    await Promise.all(this.background);
  }

  /**
   * One bounded retry loop: the first attempt may take the whole bound (a hung server answers
   * late). Elapsed time is taken from the monotonic clock: a wall clock may jump, or be frozen by tests.
   */
  private async writeWithin(tags: readonly string[], boundMs: number): Promise<boolean> {
    const deadline = performance.now() + boundMs;
    let delay = this.settings.retryInitialMs;
    for (;;) {
      const left = deadline - performance.now();
      if (await this.parts.versions.invalidate(tags, { force: true, timeoutMs: Math.max(left, 1) })) return true;
      const wait = Math.min(delay, deadline - performance.now());
      if (wait <= 0) return false;
      await sleep(wait);
      delay = Math.min(delay * 2, this.settings.retryMaxMs);
    }
  }

  private unacknowledged(tags: readonly string[]): void {
    this.parts.counters.unacknowledged++;
    const { ttl, invalidationTimeoutMs, rejectOnInvalidationTimeout } = this.settings;
    const shown = tags.slice(0, 10).map((tag) => `"${tag}"`).join(', ') + (tags.length > 10 ? ` and ${tags.length - 10} more` : '');
    const bound = ttl > 0 ? `until the invalidation is written (retrying) or their entries expire, at most ${ttl} ms` : 'until the invalidation is written (retrying); entries have no TTL';
    const error = new CacheTagsError(
      'E_INVALIDATION_PENDING',
      `cache-tags: the store did not acknowledge the invalidation of ${shown} in namespace "${this.parts.namespace}" within ${invalidationTimeoutMs} ms; ` +
        `this process serves nothing under these tags, but other processes may serve entries carrying them ${bound}`,
    );
    this.parts.log.error(error.message);
    this.parts.events.emit('error', { operation: 'invalidate', error });
    if (rejectOnInvalidationTimeout) throw error;
  }
}
