import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { TagCache } from '../../lib/index.js';
import { traceCacheTags } from '../../examples/observability/opentelemetry.js';
import { exportCacheMetrics } from '../../examples/observability/prometheus.js';

/*
 * The README's observability examples, run as their users would: the Prometheus one scraped (the
 * counters follow stats(), the histogram the tracing channels), the OpenTelemetry one on the SDK
 * with an in-memory exporter.
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

describe('the OpenTelemetry example', () => {
  const cache = new TagCache({ namespace: 'otel' });
  after(() => cache.close());

  it('records a span per operation, the source as a child of its wrap, outcomes and errors', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const stop = traceCacheTags(provider.getTracer('test'));
    const failure = new Error('the database is gone');
    try {
      await cache.wrap('photo', () => 'p', { tags: ['Photo_1'] });
      await cache.wrap('photo', () => 'p', { tags: ['Photo_1'] });
      await assert.rejects(cache.wrap('broken', () => { throw failure; }), failure);
      await cache.invalidateTags(['Photo_1']);
    } finally {
      stop();
    }
    const spans = exporter.getFinishedSpans().filter((span) => span.attributes['cache_tags.namespace'] === 'otel');
    const summary = spans.map((span) => [span.name, span.attributes['cache_tags.key'], span.attributes['cache_tags.outcome'], span.status.code]);
    assert.deepEqual(summary, [
      ['cache-tags compute', 'photo', undefined, SpanStatusCode.UNSET],
      ['cache-tags wrap', 'photo', 'miss', SpanStatusCode.UNSET],
      ['cache-tags wrap', 'photo', 'hit', SpanStatusCode.UNSET],
      ['cache-tags compute', 'broken', undefined, SpanStatusCode.ERROR],
      ['cache-tags wrap', 'broken', 'miss', SpanStatusCode.ERROR],
      ['cache-tags invalidate', undefined, undefined, SpanStatusCode.UNSET],
    ]);
    assert.equal(spans[0].parentSpanContext?.spanId, spans[1].spanContext().spanId, 'the source span is a child of its wrap span');
    assert.deepEqual(spans[1].attributes['cache_tags.tags'], ['Photo_1']);
    assert.equal(spans[5].attributes['cache_tags.acknowledged'], true);
    assert.equal(spans[4].status.message, 'the database is gone');
    await provider.shutdown();
  });
});
