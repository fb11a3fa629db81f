import { tracingChannel, type TracingChannel } from 'node:diagnostics_channel';

/**
 * Names of the `node:diagnostics_channel` tracing channels of cache-tags, one per operation. Each
 * publishes Node's `start`, `end`, `asyncStart`, `asyncEnd` and `error` events (channels
 * `tracing:<name>:start` and so on), with one context object per call: `result` or `error` are set
 * on it by Node when the call settles, the fields documented on each context type by cache-tags.
 * Nothing is built or published while a channel has no subscriber.
 * @public
 */
export const TRACING_CHANNELS = {
  /** `TagCache.get`; context {@link GetTraceContext}. */
  get: 'cache-tags:get',
  /** `TagCache.wrap` (and so every `@Cached` call); context {@link WrapTraceContext}. */
  wrap: 'cache-tags:wrap',
  /** `TagCache.set`; context {@link SetTraceContext}, `result` is whether the store took the write. */
  set: 'cache-tags:set',
  /** The source of a `wrap` running after a miss, inside the `wrap` call; context {@link ComputeTraceContext}. */
  compute: 'cache-tags:compute',
  /** `TagCache.invalidateTags` (and so every ORM write that invalidates); context {@link InvalidateTraceContext}. */
  invalidate: 'cache-tags:invalidate',
} as const;

/** What every context carries. @public */
export interface TraceContextBase {
  /** The namespace of the cache. */
  namespace: string;
  /** Set by Node when the call resolved. */
  result?: unknown;
  /** Set by Node when the call rejected. */
  error?: unknown;
}

/** @public */
export interface GetTraceContext extends TraceContextBase {
  key: string;
  /** Set before the call resolves. */
  outcome?: 'hit' | 'miss';
}

/** @public */
export interface WrapTraceContext extends TraceContextBase {
  key: string;
  /** The declared tags (the value may learn more while it is computed). */
  tags: readonly string[];
  /**
   * Set before the call resolves: `hit` (a valid entry served), `miss` (this call ran the source;
   * see `cache-tags:compute`), `joined` (it shared the run of a concurrent call for the same key).
   */
  outcome?: 'hit' | 'miss' | 'joined';
}

/** @public */
export interface SetTraceContext extends TraceContextBase {
  key: string;
  tags: readonly string[];
}

/** @public */
export interface ComputeTraceContext extends TraceContextBase {
  key: string;
  tags: readonly string[];
}

/** @public */
export interface InvalidateTraceContext extends TraceContextBase {
  tags: readonly string[];
  /** What caused it, as passed to `invalidateTags` (an ORM write's description). */
  source: unknown;
  /**
   * Set before the call settles: whether the store acknowledged it within `invalidationTimeoutMs`
   * (`false` also when it rejects with `E_INVALIDATION_PENDING`, under `onInvalidationTimeout: "reject"`).
   */
  acknowledged?: boolean;
}

/** The channels, created once per process (Node keeps one channel per name). */
export const tracing = {
  get: tracingChannel<unknown, GetTraceContext>(TRACING_CHANNELS.get),
  wrap: tracingChannel<unknown, WrapTraceContext>(TRACING_CHANNELS.wrap),
  set: tracingChannel<unknown, SetTraceContext>(TRACING_CHANNELS.set),
  compute: tracingChannel<unknown, ComputeTraceContext>(TRACING_CHANNELS.compute),
  invalidate: tracingChannel<unknown, InvalidateTraceContext>(TRACING_CHANNELS.invalidate),
};

/**
 * Whether anyone listens to any event of `channel`. `TracingChannel.hasSubscribers` is this same
 * test, but only from Node 20.13; the engines field allows 20.0.
 */
export function traced(channel: TracingChannel<unknown, object>): boolean {
  return channel.start.hasSubscribers || channel.end.hasSubscribers || channel.asyncStart.hasSubscribers || channel.asyncEnd.hasSubscribers || channel.error.hasSubscribers;
}
