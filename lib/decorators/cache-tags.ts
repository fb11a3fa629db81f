import { registerSerializableClass } from '../core/class-registry.js';
import { CacheTagsError } from '../core/errors.js';
import { describe } from '../core/tracking-scope.js';
import { isStandardContext } from './decorator-target.js';

type Constructor<T = any> = abstract new (...args: any[]) => T;

/**
 * The tags one row of an entity stands for.
 * @public
 */
export type EntityTagsFunction<T> = (entity: T) => readonly string[];

/**
 * Options of {@link CacheTags}.
 * @public
 */
export interface CacheTagsOptions {
  /**
   * The name the class is cached and typed under (its type-level tag).
   * @default the class name
   */
  name?: string;
  /**
   * Fields left out of cached copies of its instances (a password hash, a token): a hit hands back
   * an instance without them. See `registerSerializableClass`.
   * @default []
   */
  omit?: readonly string[];
  /**
   * Query cache default (docs/query-cache.md), opt-in: `'byId'` serves every primary-key lookup of
   * the entity (`findOneBy({ id })`, `findBy({ id: In(ids) })`) from the tag cache, `'all'` every
   * find and count of it, as if each had `cache: true`; a query's own `cache: false` opts out.
   * @default none (only queries that ask are cached)
   */
  queryCache?: QueryCacheDefault;
  /**
   * Fields whose values every write spells into field tags, besides the ones the ORM mapping
   * gives (primary key, join columns, indexed and unique columns): a cached query with an equality
   * on one of them is invalidated only by writes of rows with that value. Each costs one tag per
   * changed row in every write, so list only fields queries filter on.
   * @default []
   */
  conditionFields?: readonly string[];
}

/**
 * Which queries of an entity the query cache serves without being asked.
 * @public
 */
export type QueryCacheDefault = 'byId' | 'all';

interface Registration {
  fn: EntityTagsFunction<any>;
  name: string;
  queryCache: QueryCacheDefault | undefined;
  conditionFields: readonly string[];
}

const registrations = new Map<Constructor, Registration>();

/**
 * Class decorator: registers the tags that a change to one row of the entity invalidates, and lets
 * instances of the class be cached and revived with their prototype.
 *
 * @example
 * ```ts
 * @CacheTags((photo: Photo) => [`Photo_${photo.id}`, `User_${photo.userId}_photos`])
 * @Entity()
 * class Photo { ... }
 * ```
 * @public
 */
export function CacheTags<T>(tags: EntityTagsFunction<T>, options?: CacheTagsOptions): (target: Constructor<T>, context?: unknown) => void;
/**
 * Class decorator for an entity with no row tags of its own beyond what cache-tags derives (its
 * type-level tag, and the query cache's field tags): `@CacheTags({ queryCache: 'byId' })`.
 * @public
 */
export function CacheTags<T>(options: CacheTagsOptions): (target: Constructor<T>, context?: unknown) => void;
export function CacheTags<T>(tagsOrOptions: EntityTagsFunction<T> | CacheTagsOptions, maybeOptions: CacheTagsOptions = {}) {
  const onlyOptions = typeof tagsOrOptions === 'object' && tagsOrOptions !== null && !Array.isArray(tagsOrOptions);
  const tags: unknown = onlyOptions ? NO_TAGS : tagsOrOptions;
  const options = onlyOptions ? (tagsOrOptions) : maybeOptions;
  if (typeof tags !== 'function') {
    throw new CacheTagsError('E_INVALID_OPTION', `@CacheTags expects a function from an entity to its tags (or an options object), got ${describe(tags)}`);
  }
  checkQueryOptions(options);
  return (target: Constructor<T>, context?: unknown): void => {
    if (typeof target !== 'function' || (isStandardContext(context) && context.kind !== 'class')) {
      const where = isStandardContext(context) ? `a ${context.kind}` : 'a non-class';
      throw new CacheTagsError('E_DECORATOR_TARGET', `@CacheTags decorates entity classes, not ${where}`);
    }
    const name = options.name ?? target.name;
    registerSerializableClass(target, { name, omit: options.omit ?? [] });
    registrations.set(target, { fn: tags as EntityTagsFunction<T>, name, queryCache: options.queryCache, conditionFields: options.conditionFields ?? [] });
  };
}

const NO_TAGS: EntityTagsFunction<unknown> = () => [];

function checkQueryOptions(options: CacheTagsOptions): void {
  const { queryCache, conditionFields } = options;
  if (queryCache !== undefined && queryCache !== 'byId' && queryCache !== 'all') {
    throw new CacheTagsError('E_INVALID_OPTION', `@CacheTags: option queryCache must be 'byId' or 'all', got ${describe(queryCache)}`);
  }
  if (conditionFields !== undefined && !(Array.isArray(conditionFields) && conditionFields.every((f) => typeof f === 'string' && f.length > 0))) {
    throw new CacheTagsError('E_INVALID_OPTION', `@CacheTags: option conditionFields must be an array of field names, got ${describe(conditionFields)}`);
  }
}

/**
 * The query cache settings of an entity class: the `queryCache` default of the nearest class
 * (itself first, then its parents) that sets one, and the `conditionFields` of all of them.
 */
export function queryCacheSettingsOf(cls: Function): { queryCache: QueryCacheDefault | undefined; conditionFields: string[] } {
  let queryCache: QueryCacheDefault | undefined;
  const conditionFields: string[] = [];
  for (let c: any = cls; c && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    const registration = registrations.get(c);
    if (!registration) continue;
    queryCache ??= registration.queryCache;
    for (const field of registration.conditionFields) if (!conditionFields.includes(field)) conditionFields.push(field);
  }
  return { queryCache, conditionFields };
}

/**
 * The tags of one entity row: from its class's `@CacheTags` function and those of its parent
 * classes. An object of a class with no `@CacheTags` has none.
 * @throws CacheTagsError `E_INVALID_TAG` naming the class when a tag function returns a non-string.
 * @public
 */
export function tagsFor(entity: object, cls: Constructor = entity.constructor as Constructor): string[] {
  const out: string[] = [];
  for (let c: any = cls; c && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    const registration = registrations.get(c);
    if (!registration) continue;
    const tags = registration.fn(entity);
    if (!Array.isArray(tags)) {
      throw new CacheTagsError('E_INVALID_TAG', `@CacheTags function of ${registration.name} must return an array of strings, got ${describe(tags)}`);
    }
    tags.forEach((tag, index) => {
      if (typeof tag !== 'string' || tag.length === 0) {
        throw new CacheTagsError('E_INVALID_TAG', `@CacheTags function of ${registration.name} returned ${describe(tag)} as tag ${index}; tags must be non-empty strings`);
      }
      if (!out.includes(tag)) out.push(tag);
    });
  }
  return out;
}

/**
 * The type-level tag of an entity class: every write of any row of it invalidates this tag, so a
 * result can depend on "any change to photos". It is the name given to `@CacheTags` (default: the
 * class name), so `@Cached(['Photo'])` depends on every Photo write.
 * @public
 */
export function tagForType(cls: Constructor | Function): string {
  return registrations.get(cls as Constructor)?.name ?? cls.name;
}

/**
 * Whether `cls` or one of its parents is decorated with `@CacheTags`.
 * @public
 */
export function hasCacheTags(cls: Function): boolean {
  for (let c: any = cls; c && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    if (registrations.has(c)) return true;
  }
  return false;
}
