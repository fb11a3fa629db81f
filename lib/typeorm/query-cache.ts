import { EntityManager, type DataSource, type EntityMetadata, type FindManyOptions, type FindOneOptions, type ObjectLiteral, type Repository } from 'typeorm';
import { CacheTagsError } from '../core/index.js';
import { describe } from '../core/tracking-scope.js';
import { queryCacheSettingsOf } from '../decorators/cache-tags.js';
import { isKeyLookup, planQueryTags, queryCacheKey, resolveQueryCache, runCachedQuery, type QueryCacheOptions, type ResolvedQueryCache } from '../orm/index.js';
import { conditionFields } from './query-cache-fields.js';
import { learnRows } from './query-cache-rows.js';
import { metadataTypeTags } from './entity-tags.js';
import { entityCondition, keyable, queryType } from './query-cache-where.js';
import { brandedSubscriber } from './query-builder-hooks.js';
import type { BrandedSubscriber } from './write-context.js';

/** The find methods whose results the query cache serves (docs/query-cache.md). */
export type CachedQueryMethod = 'find' | 'findOne' | 'findAndCount' | 'count' | 'exists';

/** The where-only variants, and the method each is a shorthand for. */
const BY_WHERE: Record<string, CachedQueryMethod> = { findBy: 'find', findOneBy: 'findOne', findAndCountBy: 'findAndCount', countBy: 'count', existsBy: 'exists' };
const WITH_OPTIONS: readonly CachedQueryMethod[] = ['find', 'findOne', 'findAndCount', 'count', 'exists'];

const INSTALLED = Symbol.for('cache-tags typeorm query-cache hooks');

type Original = (this: EntityManager, target: unknown, arg: unknown) => Promise<unknown>;
const originals = new Map<CachedQueryMethod, Original>();

function dataSourceOf(manager: EntityManager): DataSource {
  return (manager as { dataSource?: DataSource }).dataSource ?? manager.connection;
}

/*
 * Everything a result depends on besides the find options: which database (two DataSources may
 * share a cache) and which table (an entity prefix or schema may differ).
 */
function databaseOf(dataSource: DataSource, metadata: EntityMetadata): unknown {
  const o = dataSource.options as unknown as Record<string, unknown>;
  return { type: o.type, name: o.name ?? null, database: o.database ?? null, url: o.url ?? null, host: o.host ?? null, port: o.port ?? null, schema: o.schema ?? null, table: metadata.tablePath };
}

/** `invalidateOn` names (properties, relations) as condition-field names (database columns). */
function watchable(metadata: EntityMetadata, names: readonly string[] | undefined): string[] | undefined {
  if (!names) return undefined;
  const fields = conditionFields(metadata);
  return names.map((name) => {
    const column = metadata.findRelationWithPropertyPath(name)?.joinColumns[0] ?? metadata.findColumnWithPropertyPath(name);
    const field = column && fields.find((f) => f.column.databaseName === column.databaseName);
    if (!field) {
      const known = fields.map((f) => f.column.propertyPath).join(', ');
      throw new CacheTagsError('E_INVALID_OPTION', `invalidateOn: ${name} is not a condition field of ${metadata.name} (its condition fields: ${known}); list it in @CacheTags conditionFields to watch it`);
    }
    return field.name;
  });
}

function withoutCache(options: unknown): unknown {
  if (typeof options !== 'object' || options === null || !('cache' in options)) return options;
  const { cache: _cache, ...rest } = options as Record<string, unknown>;
  return rest;
}

/*
 * A query of a parent entity returns its children's rows too, so their writes must bump the
 * parent's tags: they do when the parent is decorated with @CacheTags (a child's type-level tags
 * include its decorated parents'), and a query that could miss them is refused.
 */
function checkChildrenReach(metadata: EntityMetadata): void {
  const type = queryType(metadata);
  const unreached = metadata.childEntityMetadatas.find((child) => !metadataTypeTags(child).includes(type));
  if (unreached) {
    throw new CacheTagsError('E_INVALID_OPTION', `cache: ${metadata.name} has the child entity ${unreached.name}, whose writes do not reach queries of ${metadata.name}; decorate ${metadata.name} with @CacheTags (@CacheTags({}) is enough)`);
  }
}

/** Runs one find through the tag cache. `options` has no `cache`. */
function serve(manager: EntityManager, subscriber: BrandedSubscriber, metadata: EntityMetadata, method: CachedQueryMethod, options: Record<string, unknown>, cache: ResolvedQueryCache): Promise<unknown> {
  checkChildrenReach(metadata);
  const plan = planQueryTags(entityCondition(metadata, options.where), watchable(metadata, cache.invalidateOn));
  const dataSource = dataSourceOf(manager);
  const key = queryCacheKey(queryType(metadata), cache.id, { db: databaseOf(dataSource, metadata), method, options: keyable(options, (value) => dataSource.hasMetadata(value.constructor)) });
  return runCachedQuery({
    cache: subscriber.cache,
    key,
    tags: plan.tags,
    ttl: cache.ttl,
    run: () => originals.get(method)!.call(manager, metadata.target, options),
    learn: (result) => [...learnRows(metadata, method === 'findAndCount' ? (result as unknown[])[0] : result, !plan.rowsCovered)],
  });
}

/** Whether the entity's `@CacheTags({ queryCache })` default asks for this query. */
function cachedByDefault(metadata: EntityMetadata, where: unknown): boolean {
  if (typeof metadata.target !== 'function') return false;
  const { queryCache } = queryCacheSettingsOf(metadata.target);
  if (queryCache === 'all') return true;
  return queryCache === 'byId' && isKeyLookup(entityCondition(metadata, where), metadata.primaryColumns.map((c) => c.databaseName));
}

function inTransaction(manager: EntityManager): boolean {
  return manager.queryRunner?.isTransactionActive === true;
}

function wrap(method: string, as: CachedQueryMethod, byWhere: boolean): void {
  const proto = EntityManager.prototype as unknown as Record<string, Original>;
  const original = proto[method];
  if (typeof original !== 'function') return;
  if (!byWhere) originals.set(as, original);
  // async: a wrong option rejects, as the find it replaces would.
  proto[method] = async function cachedFind(this: EntityManager, target: unknown, arg: unknown) {
    const subscriber = brandedSubscriber(dataSourceOf(this));
    if (!subscriber) return original.call(this, target, arg);
    const options = (byWhere ? { where: arg } : (arg ?? {})) as Record<string, unknown>;
    const asked = byWhere ? undefined : resolveQueryCache(`${method}: option cache`, options.cache);
    const plain = withoutCache(options) as Record<string, unknown>;
    const metadata = dataSourceOf(this).getMetadata(target as never);
    const wanted = asked ?? (options.cache === undefined && cachedByDefault(metadata, plain.where) ? { id: undefined, ttl: undefined, invalidateOn: undefined } : undefined);
    if (!wanted || inTransaction(this) || plain.lock !== undefined) return original.call(this, target, byWhere ? arg : withoutCache(arg));
    return serve(this, subscriber, metadata, as, plain, wanted);
  };
}

/**
 * Routes the EntityManager's find methods (and so the Repository's, which call them) through the
 * query cache when asked (`cache` option, `@CacheTags({ queryCache })`), once per process: a
 * DataSource without cache-tags is not touched. TypeORM's own `cache` option (its time-based
 * `QueryResultCache`) is not used for a DataSource with cache-tags: its key is the SQL, which
 * cannot say which writes invalidate it.
 */
export function installQueryCacheHooks(): void {
  const marker = EntityManager.prototype as unknown as Record<symbol, boolean>;
  if (marker[INSTALLED]) return;
  marker[INSTALLED] = true;
  for (const method of WITH_OPTIONS) wrap(method, method, false);
  for (const [method, as] of Object.entries(BY_WHERE)) wrap(method, as, true);
}

/**
 * The explicit form of the query cache, for code that does not pass the ORM's `cache` option:
 * runs `repository[method](options)` through the tag cache, invalidated by the writes that could
 * change its result (docs/query-cache.md). Inside a transaction it runs the query uncached.
 *
 * @example
 * ```ts
 * const photos = await cachedQuery(photoRepo, 'find', { where: { userId } }, { invalidateOn: ['userId'] });
 * ```
 * @throws CacheTagsError `E_INVALID_OPTION` when cache-tags is not installed on the repository's DataSource, or a cache option is wrong.
 * @public
 */
export function cachedQuery<T extends ObjectLiteral>(repository: Repository<T>, method: 'find', options?: FindManyOptions<T>, cache?: QueryCacheOptions): Promise<T[]>;
export function cachedQuery<T extends ObjectLiteral>(repository: Repository<T>, method: 'findOne', options: FindOneOptions<T>, cache?: QueryCacheOptions): Promise<T | null>;
export function cachedQuery<T extends ObjectLiteral>(repository: Repository<T>, method: 'findAndCount', options?: FindManyOptions<T>, cache?: QueryCacheOptions): Promise<[T[], number]>;
export function cachedQuery<T extends ObjectLiteral>(repository: Repository<T>, method: 'count' | 'exists', options?: FindManyOptions<T>, cache?: QueryCacheOptions): Promise<number | boolean>;
export async function cachedQuery<T extends ObjectLiteral>(repository: Repository<T>, method: CachedQueryMethod, options: FindManyOptions<T> = {}, cache: QueryCacheOptions = {}): Promise<unknown> {
  if (!WITH_OPTIONS.includes(method)) throw new CacheTagsError('E_INVALID_OPTION', `cachedQuery: method must be one of ${WITH_OPTIONS.join(', ')}, got ${describe(method)}`);
  const manager = repository?.manager;
  const subscriber = manager && brandedSubscriber(dataSourceOf(manager));
  if (!subscriber) throw new CacheTagsError('E_INVALID_OPTION', `cachedQuery: cache-tags is not installed on the repository's DataSource; call installCacheTags first`);
  installQueryCacheHooks();
  const resolved = resolveQueryCache('cachedQuery', cache)!;
  const plain = withoutCache(options) as Record<string, unknown>;
  if (inTransaction(manager)) return originals.get(method)!.call(manager, repository.target, plain);
  return serve(manager, subscriber, repository.metadata, method, plain, resolved);
}
