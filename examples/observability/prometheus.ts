/*
 * Exports caches to Prometheus with prom-client: their stats() as counters and a gauge, read at
 * each scrape, and the duration of every operation, by outcome, from the tracing channels.
 * Shown in the README's Observability section; test/examples/observability.test.ts scrapes it.
 */
import { tracingChannel } from 'node:diagnostics_channel';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { TRACING_CHANNELS, type TagCache, type TagCacheStats } from '../../lib/index.js'; // in your app: 'cache-tags'

/** A counter read from stats() at each scrape: one number, or one per value of `labelName`. */
function statsCounter(registry: Registry, caches: TagCache[], name: string, help: string, read: (stats: TagCacheStats) => number): void;
function statsCounter(registry: Registry, caches: TagCache[], name: string, help: string, read: (stats: TagCacheStats) => Record<string, number>, labelName: string): void;
function statsCounter(registry: Registry, caches: TagCache[], name: string, help: string, read: (stats: TagCacheStats) => number | Record<string, number>, labelName?: string): void {
  new Counter({
    name,
    help,
    labelNames: labelName ? ['namespace', labelName] : ['namespace'],
    registers: [registry],
    collect() {
      this.reset(); // stats() counts since the cache was created: the counter is set to it, not added to
      for (const cache of caches) {
        const { namespace } = cache;
        const counted = read(cache.stats());
        if (typeof counted === 'number') this.inc({ namespace }, counted);
        else for (const [label, value] of Object.entries(counted)) this.inc({ namespace, [labelName!]: label }, value);
      }
    },
  });
}

/**
 * Registers the metrics of `caches` on `registry`. Returns a function that unsubscribes from the
 * tracing channels (the counters stay registered).
 */
export function exportCacheMetrics(registry: Registry, caches: TagCache[]): () => void {
  statsCounter(registry, caches, 'cache_tags_hits_total', 'Lookups that served a valid entry', (s) => s.hits);
  statsCounter(registry, caches, 'cache_tags_misses_total', 'Lookups that found no valid entry', (s) => s.misses, 'reason');
  statsCounter(registry, caches, 'cache_tags_stored_total', 'Values written to the store', (s) => s.stored);
  statsCounter(registry, caches, 'cache_tags_not_stored_total', 'Computed values returned but not stored', (s) => s.notStored, 'reason');
  statsCounter(registry, caches, 'cache_tags_joined_total', 'Calls that joined a computation in progress', (s) => s.singleFlight.joined);
  statsCounter(registry, caches, 'cache_tags_joined_reran_total', 'Joined calls that ran again by themselves', (s) => s.singleFlight.reran);
  statsCounter(registry, caches, 'cache_tags_invalidations_total', 'invalidateTags calls', (s) => s.invalidations.calls);
  statsCounter(registry, caches, 'cache_tags_invalidated_tags_total', 'Tags invalidated', (s) => s.invalidations.tags);
  statsCounter(registry, caches, 'cache_tags_unacknowledged_invalidations_total', 'Invalidations not acknowledged in time', (s) => s.invalidations.unacknowledged);
  statsCounter(registry, caches, 'cache_tags_store_errors_total', 'Store calls that failed or timed out', (s) => s.storeErrors, 'operation');
  new Gauge({
    name: 'cache_tags_pending_invalidations',
    help: 'Tags whose invalidation waits for a retry',
    labelNames: ['namespace'],
    registers: [registry],
    collect() {
      for (const cache of caches) this.set({ namespace: cache.namespace }, cache.pendingInvalidations);
    },
  });

  const duration = new Histogram({
    name: 'cache_tags_operation_duration_seconds',
    help: 'Duration of cache operations, by outcome (wrap: hit, miss, joined; compute: the source after a miss)',
    labelNames: ['namespace', 'operation', 'outcome'],
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers: [registry],
  });
  const started = new WeakMap<object, number>();
  const unsubscribes: (() => void)[] = [];
  for (const [operation, name] of Object.entries(TRACING_CHANNELS)) {
    const channel = tracingChannel<unknown, { namespace: string; outcome?: string; error?: unknown }>(name);
    const handlers = {
      start: (context: object) => started.set(context, performance.now()),
      end: () => undefined,
      asyncStart: () => undefined,
      asyncEnd: (context: { namespace: string; outcome?: string; error?: unknown }) => {
        const since = started.get(context);
        if (since === undefined) return;
        const outcome = context.error !== undefined ? 'error' : (context.outcome ?? 'done');
        duration.observe({ namespace: context.namespace, operation, outcome }, (performance.now() - since) / 1000);
      },
      error: () => undefined,
    };
    channel.subscribe(handlers);
    unsubscribes.push(() => channel.unsubscribe(handlers));
  }
  return () => unsubscribes.forEach((unsubscribe) => unsubscribe());
}
