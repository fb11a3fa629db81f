import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { TagCache } from '../../lib/index.js';
import { exportCacheMetrics } from '../../examples/observability/prometheus.js';

/*
 * The README's Prometheus example, scraped as Prometheus would: the counters follow stats(), the
 * histogram follows the tracing channels, by operation and outcome.
 */
describe('the Prometheus example', () => {
  const cache = new TagCache({ namespace: 'prom' });
  after(() => cache.close());

  it('exports stats() as counters and the duration of each operation by outcome', async () => {
    const registry = new Registry();
    const stop = exportCacheMetrics(registry, [cache]);
    try {
      await cache.wrap('photo', () => 'p', { tags: ['Photo_1'] });
      await cache.wrap('photo', () => 'p', { tags: ['Photo_1'] });
      await cache.invalidateTags(['Photo_1', 'Photo_list']);
      await Promise.all([cache.wrap('photo', () => 'q', { tags: ['Photo_1'] }), cache.wrap('photo', () => 'q', { tags: ['Photo_1'] })]);
    } finally {
      stop();
    }
    await cache.wrap('photo', () => 'q', { tags: ['Photo_1'] }); // counted by stats(), no longer timed
    const scraped = (await registry.metrics()).split('\n');
    for (const line of [
      'cache_tags_hits_total{namespace="prom"} 2',
      'cache_tags_misses_total{namespace="prom",reason="absent"} 1',
      'cache_tags_misses_total{namespace="prom",reason="invalidated"} 1',
      'cache_tags_stored_total{namespace="prom"} 2',
      'cache_tags_joined_total{namespace="prom"} 1',
      'cache_tags_invalidations_total{namespace="prom"} 1',
      'cache_tags_invalidated_tags_total{namespace="prom"} 2',
      'cache_tags_store_errors_total{namespace="prom",operation="read"} 0',
      'cache_tags_pending_invalidations{namespace="prom"} 0',
      'cache_tags_operation_duration_seconds_count{namespace="prom",operation="wrap",outcome="miss"} 2',
      'cache_tags_operation_duration_seconds_count{namespace="prom",operation="wrap",outcome="hit"} 1',
      'cache_tags_operation_duration_seconds_count{namespace="prom",operation="wrap",outcome="joined"} 1',
      'cache_tags_operation_duration_seconds_count{namespace="prom",operation="compute",outcome="done"} 2',
      'cache_tags_operation_duration_seconds_count{namespace="prom",operation="invalidate",outcome="done"} 1',
    ]) {
      assert.ok(scraped.includes(line), `${line}\nnot in:\n${scraped.filter((l) => l.startsWith('cache_tags') && !l.includes('_bucket')).join('\n')}`);
    }
  });
});
