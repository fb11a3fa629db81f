/**
 * cache-tags: cached results tied to the rows they were built from, invalidated by tag.
 * @packageDocumentation
 */
export * from './core/index.js';
export { CacheTags, tagsFor, tagForType, hasCacheTags, type EntityTagsFunction, type CacheTagsOptions, type QueryCacheDefault } from './decorators/cache-tags.js';
export { Cached, type CachedOptions, type CachedDecorator } from './decorators/cached.js';
export { setDefaultScope } from './decorators/default-scope.js';
