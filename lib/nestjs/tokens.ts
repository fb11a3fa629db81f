import { Inject } from '@nestjs/common';
import { CacheTagsError } from '../core/errors.js';
import { TagCache } from '../core/tag-cache.js';
import { describe } from '../core/tracking-scope.js';

/**
 * The injection token of the cache registered under `name` in `CacheTagsModule.forRoot({ caches })`.
 * Without a name: the module's default cache, whose token is the `TagCache` class itself.
 * @public
 */
export function getTagCacheToken(name?: string): string | typeof TagCache {
  if (name === undefined) return TagCache;
  if (typeof name !== 'string' || name.length === 0) {
    throw new CacheTagsError('E_INVALID_OPTION', `getTagCacheToken: name must be a non-empty string, got ${describe(name)}`);
  }
  return `cache-tags:TagCache:${name}`;
}

/**
 * Parameter or property decorator that injects the cache named `name` (or the default cache).
 * @example
 * ```ts
 * constructor(@InjectTagCache('sessions') private readonly sessions: TagCache) {}
 * ```
 * @public
 */
export function InjectTagCache(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getTagCacheToken(name));
}
