/**
 * cache-tags for NestJS: `CacheTagsModule`, injectable caches, and tagged HTTP response caching.
 * @packageDocumentation
 */
export { CacheTagsModule, type CacheTagsModuleAsyncOptions } from './cache-tags.module.js';
export type { CacheTagsModuleOptions } from './module-options.js';
export type { CacheTagsModuleExtras } from './module-definition.js';
export { InjectTagCache, getTagCacheToken } from './tokens.js';
export { CachePage } from './cache-page/cache-page.decorator.js';
export { CachePageInterceptor } from './cache-page/cache-page.interceptor.js';
export type { CachePageOptions, CachePageRequest, CachePageVary } from './cache-page/options.js';
