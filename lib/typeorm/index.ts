/**
 * cache-tags for TypeORM: every write through a DataSource invalidates the tags of the rows it
 * changed, after its transaction ends.
 * @packageDocumentation
 */
export { installCacheTags, type InstallCacheTagsOptions } from './install.js';
export { CacheTagsSubscriber, type CacheTagsSubscriberOptions } from './subscriber.js';
export { invalidateEntities } from './invalidate-entities.js';
export type { TypeOrmWriteSource } from './invalidator.js';
export { tagForType } from '../decorators/cache-tags.js';
export { cachedQuery, type CachedQueryMethod } from './query-cache.js';
export type { QueryCacheOptions } from '../orm/index.js';
