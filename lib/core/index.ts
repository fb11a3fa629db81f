export { CacheTagsError, type CacheTagsErrorCode } from './errors.js';
export { TagCache, createTagCache, type TagCacheOptions, type EntryOptions, type CacheTagsLogger } from './tag-cache.js';
export type { TagCacheEvents, TagCacheEventName } from './events.js';
export type { CircuitBreakerOptions } from './circuit-breaker.js';
export { defaultSerializer, type Serializer } from './serializer.js';
export { registerSerializableClass, registerSerializableClasses, type SerializableClassOptions } from './class-registry.js';
export { addCacheTags } from './tracking-scope.js';
export { setDefaultTagCache, getDefaultTagCache, registerTagCache, unregisterTagCache, getTagCache, resolveTagCache } from './cache-registry.js';
