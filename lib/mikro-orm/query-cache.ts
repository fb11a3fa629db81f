import { Utils, type EntityManager, type EntityMetadata } from '@mikro-orm/core';
import { CacheTagsError } from '../core/index.js';
import { describe } from '../core/tracking-scope.js';
import { queryCacheSettingsOf, tagForType } from '../decorators/cache-tags.js';
import { isKeyLookup, planQueryTags, queryCacheKey, resolveQueryCache, runCachedQuery, type ResolvedQueryCache } from '../orm/index.js';
import { conditionFieldNamed, conditionFields } from './query-cache-fields.js';
import { queryKeyDescription } from './query-cache-key.js';
import { queryCondition } from './query-conditions.js';
import { resultData, reviveResult } from './query-results.js';
import { subscribersOf } from './subscriber.js';

/** The entity manager reads the query cache serves (`findAndCount` is a `find` and a `count`). */
export type CachedRead = 'find' | 'findOne' | 'count';

type Options = Record<string, unknown>;

/** What `em.find` does before it reads, which the query cache needs too: not public, stable across MikroORM 6. */
interface ReadSteps {
  processWhere(entityName: string, where: unknown, options: Options, type: 'read'): Promise<unknown>;
}

/**
 * The `cache` option as MikroORM spells it (`true`, a TTL in ms, `[key, ttl]`), or the object
 * form of {@link QueryCacheOptions}; `undefined` when it does not ask for caching.
 */
function asked(value: unknown, method: string): ResolvedQueryCache | undefined {
  const where = `em.${method}: option cache`;
  if (Array.isArray(value)) {
    const [id, ttl] = value as unknown[];
    if (typeof id !== 'string' || id.length === 0) throw new CacheTagsError('E_INVALID_OPTION', `${where}: the key of [key, ttl] must be a non-empty string, got ${describe(id)}`);
    return resolveQueryCache(where, { id, ttl: ttl ?? 0 });
  }
  return resolveQueryCache(where, value);
}

/** `invalidateOn` names (properties or columns) as condition-field names (database columns). */
function watchable(meta: EntityMetadata, names: readonly string[] | undefined): string[] | undefined {
  return names?.map((name) => {
    const field = conditionFieldNamed(meta, name);
    if (!field) {
      const known = conditionFields(meta).map((f) => f.prop.name).join(', ');
      throw new CacheTagsError('E_INVALID_OPTION', `invalidateOn: ${name} is not a condition field of ${meta.className} (its condition fields: ${known}); list it in @CacheTags conditionFields to watch it`);
    }
    return field.name;
  });
}

/** Reads that go to the database whatever they ask: in a transaction (they see its own writes), locking, or with no identity map to revive into. */
function uncacheable(em: EntityManager, options: Options): boolean {
  const noIdentityMap = (options.disableIdentityMap as boolean | undefined) ?? em.config.get('disableIdentityMap');
  return em.getTransactionContext() !== undefined || options.ctx !== undefined || options.lockMode !== undefined || noIdentityMap === true;
}

const CACHE_NONE = { id: undefined, ttl: undefined, invalidateOn: undefined } satisfies ResolvedQueryCache;

/** Whether the entity's `@CacheTags({ queryCache })` default, or MikroORM's `resultCache.global`, asks for this read. */
async function askedByDefault(em: EntityManager, meta: EntityMetadata, method: CachedRead, where: unknown, options: Options): Promise<ResolvedQueryCache | undefined> {
  const global = em.config.get('resultCache').global;
  if (global !== undefined && global !== false) return asked(global, method);
  const { queryCache } = queryCacheSettingsOf(meta.class);
  if (queryCache === 'all') return CACHE_NONE;
  if (queryCache !== 'byId') return undefined;
  // A key lookup as written: the filters an entity manager adds do not make it another kind of query.
  const written = await (em as unknown as ReadSteps).processWhere(meta.className, where, { ...options, filters: false }, 'read');
  const keys = meta.primaryKeys.map((pk) => conditionFieldNamed(meta, pk)?.name ?? pk);
  return isKeyLookup(queryCondition(em.getMetadata(), meta, written), keys) ? CACHE_NONE : undefined;
}

/**
 * Serves `em[method](entityName, where, options)` from the tag cache when its `cache` option (or
 * a default) asks for it and cache-tags is installed; `read` runs the query itself, with the
 * options it is given. A hit is revived into managed entities of the calling entity manager.
 */
export async function readThroughQueryCache(
  self: EntityManager,
  method: CachedRead,
  entityName: unknown,
  where: unknown,
  options: Options | undefined,
  read: (options: Options) => Promise<unknown>,
): Promise<unknown> {
  const given = options ?? {};
  // Not validated here: MikroORM's own read decides whether the global entity manager may be used.
  const em = self.getContext(false);
  const [subscriber] = subscribersOf(em);
  if (!subscriber) return read(given);
  // MikroORM's own result cache expires by time only: with cache-tags installed it never serves.
  const uncached = (): Promise<unknown> => read({ ...given, cache: false });
  const explicit = asked(given.cache, method);
  const meta = em.getMetadata().get(Utils.className(entityName as string));
  const byDefault = given.cache === undefined && (queryCacheSettingsOf(meta.class).queryCache !== undefined || em.config.get('resultCache').global !== undefined);
  if (!explicit && !byDefault) return given.cache === undefined ? read(given) : uncached();
  if (uncacheable(em, given)) return uncached();
  // In the identity map already: MikroORM answers without a query.
  if (method === 'findOne' && em.getUnitOfWork().tryGetById(meta.className, where as never, (given.schema as string | undefined) ?? em.schema)) return uncached();
  const wanted = explicit ?? (await askedByDefault(em, meta, method, where, given));
  if (!wanted) return uncached();
  // What `em.find` would flush before reading (flush mode `auto`) reaches the cache first.
  await em.tryFlush(meta.className, { flushMode: given.flushMode as never });
  const processed = await (em as unknown as ReadSteps).processWhere(meta.className, where, given, 'read');
  const plan = planQueryTags(queryCondition(em.getMetadata(), meta, processed, given.orderBy), watchable(meta, wanted.invalidateOn));
  const key = queryCacheKey(tagForType(meta.class), wanted.id, queryKeyDescription(em, meta, method, processed, given));
  const hint = method === 'count' ? [] : await em.preparePopulate(meta.className, { ...given } as never);
  let fresh: { result: unknown } | undefined;
  let learned: readonly string[] = [];
  const data = await runCachedQuery({
    cache: subscriber.recorder.resolveCache(),
    key,
    tags: plan.tags,
    ttl: wanted.ttl,
    run: async () => {
      const result = await read({ ...given, cache: false, flushMode: 'commit' });
      fresh = { result };
      if (method === 'count') return result;
      const shaped = resultData(result as object | object[] | null, hint, plan.rowsCovered);
      learned = shaped.learned;
      return shaped.data;
    },
    learn: () => learned,
  });
  if (fresh) return fresh.result;
  if (method === 'count') return data;
  return reviveResult(em, meta.className, data, { populate: hint, fields: given.fields as string[] | undefined, exclude: given.exclude as string[] | undefined, refresh: given.refresh as boolean | undefined });
}
