import type { CountOptions, EntityManager, EntityRepository, FilterQuery, FindOneOptions, FindOptions, Loaded } from '@mikro-orm/core';
import { CacheTagsError } from '../core/index.js';
import { describe } from '../core/tracking-scope.js';
import { resolveQueryCache, type QueryCacheOptions } from '../orm/index.js';
import { CacheTagsEntityManager } from './entity-manager.js';
import { subscribersOf } from './subscriber.js';

/** Methods of {@link cachedQuery}. */
export type CachedQueryMethod = 'find' | 'findOne' | 'findAndCount' | 'count';

const METHODS: readonly CachedQueryMethod[] = ['find', 'findOne', 'findAndCount', 'count'];

/**
 * The explicit form of the query cache, for code that does not pass MikroORM's `cache` option
 * (and for `invalidateOn`, which the option's type has no room for): runs
 * `repository[method](where, options)` through the tag cache, invalidated by the writes that
 * could change its result (docs/query-cache.md). The same as TypeORM's `cachedQuery`, with
 * MikroORM's `(where, options)` in the middle. Inside a transaction it runs the query uncached.
 *
 * @example
 * ```ts
 * const photos = await cachedQuery(em.getRepository(Photo), 'find', { user: userId, status: 2 }, {}, { invalidateOn: ['user'] });
 * ```
 * @throws CacheTagsError `E_INVALID_OPTION` when cache-tags is not installed on the repository's ORM, or a cache option is wrong.
 * @public
 */
export function cachedQuery<T extends object, P extends string = never>(repository: EntityRepository<T>, method: 'find', where: FilterQuery<T>, options?: FindOptions<T, P>, cache?: QueryCacheOptions): Promise<Loaded<T, P>[]>;
export function cachedQuery<T extends object, P extends string = never>(repository: EntityRepository<T>, method: 'findOne', where: FilterQuery<T>, options?: FindOneOptions<T, P>, cache?: QueryCacheOptions): Promise<Loaded<T, P> | null>;
export function cachedQuery<T extends object, P extends string = never>(repository: EntityRepository<T>, method: 'findAndCount', where: FilterQuery<T>, options?: FindOptions<T, P>, cache?: QueryCacheOptions): Promise<[Loaded<T, P>[], number]>;
export function cachedQuery<T extends object>(repository: EntityRepository<T>, method: 'count', where?: FilterQuery<T>, options?: CountOptions<T>, cache?: QueryCacheOptions): Promise<number>;
export function cachedQuery<T extends object>(repository: EntityRepository<T>, method: CachedQueryMethod, where: unknown = {}, options: object = {}, cache: QueryCacheOptions = {}): Promise<unknown> {
  if (!METHODS.includes(method)) throw new CacheTagsError('E_INVALID_OPTION', `cachedQuery: method must be one of ${METHODS.join(', ')}, got ${describe(method)}`);
  const em = typeof repository?.getEntityManager === 'function' ? repository.getEntityManager() : undefined;
  if (!(em instanceof CacheTagsEntityManager) || subscribersOf(em).length === 0) throw new CacheTagsError('E_INVALID_OPTION', "cachedQuery: cache-tags is not installed on the repository's ORM; use defineCacheTagsConfig or installCacheTags first");
  resolveQueryCache('cachedQuery', cache);
  const call = em[method] as (this: EntityManager, entityName: string, where: unknown, options: object) => Promise<unknown>;
  // The object form of the `cache` option, which the entity manager's find methods read at run time.
  return call.call(em, repository.getEntityName(), where, { ...options, cache });
}
