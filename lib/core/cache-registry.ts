import { CacheTagsError } from './errors.js';
import { TagCache } from './tag-cache.js';
import { describe } from './tracking-scope.js';

let defaultCache: TagCache | undefined;
const named = new Map<string, TagCache>();

/**
 * Makes `cache` the one `@Cached` methods use when they name no cache.
 * @public
 */
export function setDefaultTagCache(cache: TagCache): void {
  if (!(cache instanceof TagCache)) {
    throw new CacheTagsError('E_INVALID_OPTION', `setDefaultTagCache: expected a TagCache, got ${describe(cache)}`);
  }
  defaultCache = cache;
}

/**
 * The process-wide default cache; an in-memory one is created on first use if none was set.
 * @public
 */
export function getDefaultTagCache(): TagCache {
  defaultCache ??= new TagCache();
  return defaultCache;
}

/**
 * Registers `cache` under `name`, for `@Cached({ cache: name })`.
 * @public
 */
export function registerTagCache(name: string, cache: TagCache): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new CacheTagsError('E_INVALID_OPTION', `registerTagCache: name must be a non-empty string, got ${describe(name)}`);
  }
  if (!(cache instanceof TagCache)) {
    throw new CacheTagsError('E_INVALID_OPTION', `registerTagCache("${name}"): expected a TagCache, got ${describe(cache)}`);
  }
  named.set(name, cache);
}

/**
 * Removes the cache registered under `name` (it is not closed). With `cache`, only while `name`
 * still refers to that cache: an owner never removes what someone registered after it.
 * @public
 */
export function unregisterTagCache(name: string, cache?: TagCache): boolean {
  if (cache !== undefined && named.get(name) !== cache) return false;
  return named.delete(name);
}

/**
 * The cache registered under `name`.
 * @throws CacheTagsError `E_UNKNOWN_CACHE` when none is.
 * @public
 */
export function getTagCache(name: string): TagCache {
  const cache = named.get(name);
  if (!cache) {
    const known = [...named.keys()].map((n) => `"${n}"`).join(', ') || 'none';
    throw new CacheTagsError('E_UNKNOWN_CACHE', `No TagCache is registered as "${name}" (registered: ${known}); call registerTagCache("${name}", cache) at start-up`);
  }
  return cache;
}

/**
 * The cache an option names: the instance itself, the one registered under a name, or the default.
 * @public
 */
export function resolveTagCache(option?: TagCache | string): TagCache {
  if (option instanceof TagCache) return option;
  return option === undefined ? getDefaultTagCache() : getTagCache(option);
}
