/**
 * cache-tags for MikroORM 6 and 7: writes through the ORM invalidate the tags of the rows they touch.
 * Set-up: `MikroORM.init(defineCacheTagsConfig(config, { cache }))`.
 * @packageDocumentation
 */
export { defineCacheTagsConfig } from './config.js';
export { CacheTagsSubscriber, type CacheTagsSubscriberOptions } from './subscriber.js';
export { CacheTagsEntityManager } from './entity-manager.js';
export { invalidateEntities } from './invalidate-entities.js';
export { installCacheTags } from './install.js';
export type { MikroOrmWriteSource } from './write-recorder.js';
export { tagForType, tagsFor, CacheTags } from '../decorators/cache-tags.js';
