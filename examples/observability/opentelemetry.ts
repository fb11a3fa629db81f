/*
 * Turns the tracing channels of cache-tags into OpenTelemetry spans: one span per get, wrap, set
 * and invalidateTags, a child span for the source a wrap ran after a miss, the outcome as an
 * attribute, a thrown error as the span's status. Only @opentelemetry/api is needed here; your
 * SDK setup supplies the tracer. Shown in the README's Observability section;
 * test/examples/observability.test.ts runs it on the real SDK.
 */
import { tracingChannel } from 'node:diagnostics_channel';
import { context as otelContext, trace, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import { TRACING_CHANNELS } from '../../lib/index.js'; // in your app: 'cache-tags'

/** The fields a cache-tags trace context may carry (each channel documents its own). */
interface CacheTraceContext {
  namespace: string;
  key?: string;
  tags?: readonly string[];
  outcome?: string;
  acknowledged?: boolean;
  error?: unknown;
}

/**
 * Starts recording cache operations as spans of `tracer`; returns a function that stops it.
 * @example traceCacheTags(trace.getTracer('cache-tags'))
 */
export function traceCacheTags(tracer: Tracer): () => void {
  const spans = new WeakMap<object, Span>();
  // The wrap span of each key being computed, so that its source span is its child.
  const computing = new Map<string, Span>();
  const stops: (() => void)[] = [];
  for (const [operation, name] of Object.entries(TRACING_CHANNELS)) {
    const channel = tracingChannel<unknown, CacheTraceContext>(name);
    const id = (c: CacheTraceContext) => `${c.namespace}\0${c.key}`;
    const handlers = {
      start(c: CacheTraceContext) {
        const parent = operation === 'compute' ? computing.get(id(c)) : undefined;
        const span = tracer.startSpan(
          `cache-tags ${operation}`,
          { attributes: { 'cache_tags.namespace': c.namespace, ...(c.key !== undefined && { 'cache_tags.key': c.key }), ...(c.tags && { 'cache_tags.tags': [...c.tags] }) } },
          parent ? trace.setSpan(otelContext.active(), parent) : undefined,
        );
        spans.set(c, span);
        if (operation === 'wrap' && !computing.has(id(c))) computing.set(id(c), span);
      },
      end: () => undefined,
      asyncStart: () => undefined,
      asyncEnd(c: CacheTraceContext) {
        const span = spans.get(c);
        if (!span) return;
        if (c.outcome !== undefined) span.setAttribute('cache_tags.outcome', c.outcome);
        if (c.acknowledged !== undefined) span.setAttribute('cache_tags.acknowledged', c.acknowledged);
        if (computing.get(id(c)) === span) computing.delete(id(c));
        span.end();
      },
      error(c: CacheTraceContext) {
        const span = spans.get(c);
        if (!span) return;
        if (c.error instanceof Error) span.recordException(c.error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: c.error instanceof Error ? c.error.message : String(c.error) });
      },
    };
    channel.subscribe(handlers);
    stops.push(() => channel.unsubscribe(handlers));
  }
  return () => stops.forEach((stop) => stop());
}
