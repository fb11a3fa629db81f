export { CacheTagsError, type CacheTagsErrorCode } from './errors.js';
export { TagCache, createTagCache, type StatsOptions } from './tag-cache.js';
export type { TagCacheStats } from './stats.js';
export type { TagHold } from './tag-hold.js';
export {
  TRACING_CHANNELS,
  type TraceContextBase,
  type GetTraceContext,
  type WrapTraceContext,
  type SetTraceContext,
  type ComputeTraceContext,
  type InvalidateTraceContext,
} from './tracing.js';
export type { TagCacheOptions, EntryOptions, LockOptions, CacheTagsLogger, NearCacheOptions } from './options.js';
export type { RedisClusterClient, RedisClusterStoreOption } from './redis-cluster-store.js';
export type { TagCacheEvents, TagCacheEventName } from './events.js';
export type { CircuitBreakerOptions } from './circuit-breaker.js';
export { defaultSerializer, type Serializer } from './serializer.js';
export { registerSerializableClass, registerSerializableClasses, type SerializableClassOptions } from './class-registry.js';
export { addCacheTags, dependOn } from './tracking-scope.js';
export { setDefaultTagCache, getDefaultTagCache, registerTagCache, unregisterTagCache, getTagCache, resolveTagCache } from './cache-registry.js';
