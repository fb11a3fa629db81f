import type { CountOptions, EntityManager, EntityName, FilterQuery, FindOneOptions, FindOptions, Loaded } from '@mikro-orm/core';
import { CacheTagsError } from '../core/index.js';
import { describe } from '../core/tracking-scope.js';
import { resolveQueryCache, type QueryCacheOptions } from '../orm/index.js';
import { coversNativeWrites } from './entity-manager.js';
import { subscribersOf } from './subscriber.js';

/** Methods of {@link cachedQuery}. */
export type CachedQueryMethod = 'find' | 'findOne' | 'findAndCount' | 'count';

const METHODS: readonly CachedQueryMethod[] = ['find', 'findOne', 'findAndCount', 'count'];

/**
 * The explicit form of the query cache, for code that does not pass MikroORM's `cache` option
 * (and for `invalidateOn`, which the option's type has no room for): runs
 * `em[method](entityName, where, options)` through the tag cache, invalidated by the writes that
 * could change its result (docs/query-cache.md). The same as TypeORM's `cachedQuery` (where the
 * query runs, the method, the method's own arguments, the cache options); inside a transaction
 * it runs the query uncached.
 *
 * @example
 * ```ts
 * const photos = await cachedQuery(em, 'find', Photo, { user: userId, status: 2 }, {}, { invalidateOn: ['status'] });
 * ```
 * @throws CacheTagsError `E_INVALID_OPTION` when cache-tags is not installed on the entity manager's ORM, or a cache option is wrong.
 * @public
 */
export function cachedQuery<T extends object, P extends string = never>(em: EntityManager, method: 'find', entityName: EntityName<T>, where: FilterQuery<NoInfer<T>>, options?: FindOptions<T, P>, cache?: QueryCacheOptions): Promise<Loaded<T, P>[]>;
export function cachedQuery<T extends object, P extends string = never>(em: EntityManager, method: 'findOne', entityName: EntityName<T>, where: FilterQuery<NoInfer<T>>, options?: FindOneOptions<T, P>, cache?: QueryCacheOptions): Promise<Loaded<T, P> | null>;
export function cachedQuery<T extends object, P extends string = never>(em: EntityManager, method: 'findAndCount', entityName: EntityName<T>, where: FilterQuery<NoInfer<T>>, options?: FindOptions<T, P>, cache?: QueryCacheOptions): Promise<[Loaded<T, P>[], number]>;
export function cachedQuery<T extends object>(em: EntityManager, method: 'count', entityName: EntityName<T>, where?: FilterQuery<NoInfer<T>>, options?: CountOptions<T>, cache?: QueryCacheOptions): Promise<number>;
export async function cachedQuery(em: EntityManager, method: CachedQueryMethod, entityName: unknown, where: unknown = {}, options: object = {}, cache: QueryCacheOptions = {}): Promise<unknown> {
  if (!METHODS.includes(method)) throw new CacheTagsError('E_INVALID_OPTION', `cachedQuery: method must be one of ${METHODS.join(', ')}, got ${describe(method)}`);
  // The entity manager classes of cache-tags are the ones whose find methods read the option.
  if (!coversNativeWrites(em) || subscribersOf(em).length === 0) {
    throw new CacheTagsError('E_INVALID_OPTION', `cachedQuery: cache-tags is not installed on this entity manager's ORM (got ${describe(em)}); use defineCacheTagsConfig or installCacheTags first`);
  }
  resolveQueryCache('cachedQuery', cache);
  const read = em as unknown as Record<CachedQueryMethod, (entityName: unknown, where: unknown, options: object) => Promise<unknown>>;
  // The object form of the `cache` option, which the entity manager's find methods read at run time.
  return read[method](entityName, where, { ...options, cache });
}
