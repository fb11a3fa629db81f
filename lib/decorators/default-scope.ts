import { CacheTagsError } from '../core/errors.js';
import { TagCache } from '../core/tag-cache.js';
import { describe } from '../core/tracking-scope.js';

/*
 * A scope that every `@Cached` method of one cache takes part of its key from, unless the method
 * sets its own `scope` (or `scope: false`). Kept per cache, not per process: two apps in one
 * process (two Nest modules, say) scope their caches each their own way.
 */
const scopes = new WeakMap<TagCache, (self: any) => unknown>();

/**
 * Sets the scope of every `@Cached` method that uses `cache` and has no `scope` of its own, e.g.
 * the tenant of the request: `setDefaultScope(cache, () => tenantContext.getStore()?.tenantId)`.
 * It must return a value for every call (`undefined`/`null` is refused, so nothing is shared by
 * mistake). `undefined` as `scope` removes it.
 * @public
 */
export function setDefaultScope(cache: TagCache, scope: ((self: any) => unknown) | undefined): void {
  if (!(cache instanceof TagCache)) {
    throw new CacheTagsError('E_INVALID_OPTION', `setDefaultScope: expected a TagCache, got ${describe(cache)}`);
  }
  if (scope === undefined) {
    scopes.delete(cache);
    return;
  }
  if (typeof scope !== 'function') {
    throw new CacheTagsError('E_INVALID_OPTION', `setDefaultScope: scope must be a function of the receiver, got ${describe(scope)}`);
  }
  scopes.set(cache, scope);
}

/** The default scope of `cache`, if one was set. */
export function defaultScopeOf(cache: TagCache): ((self: any) => unknown) | undefined {
  return scopes.get(cache);
}
