import { type OnApplicationShutdown } from '@nestjs/common';
import { getDefaultTagCache, registerTagCache, setDefaultTagCache, unregisterTagCache } from '../core/cache-registry.js';
import { CacheTagsError } from '../core/errors.js';
import { TagCache, type TagCacheOptions } from '../core/tag-cache.js';
import { describe } from '../core/tracking-scope.js';
import { resolveOrmOptions } from '../orm/options.js';
import { setDefaultScope } from '../decorators/default-scope.js';
import type { CacheTagsModuleOptions } from './module-options.js';
import { nestCacheLogger } from './nest-logger.js';

/**
 * The caches one `CacheTagsModule` owns: the default one and the named ones. Creating it makes
 * them the caches `@Cached` uses; application shutdown closes the ones it created and gives the
 * process its previous default back.
 */
export class ModuleCaches implements OnApplicationShutdown {
  readonly default: TagCache;
  private readonly named = new Map<string, TagCache>();
  private readonly owned: TagCache[] = [];
  private readonly previousDefault: TagCache;

  constructor(options: CacheTagsModuleOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new CacheTagsError('E_INVALID_OPTION', `CacheTagsModule: options must be an object, got ${describe(options)}`);
    }
    const { caches = {}, wireOrm: _wireOrm, cachePageHeader: _cachePageHeader, scope, trackLoads, maxRowsPerWrite, cascadeDepth, ...own } = options;
    // Checked here, when the module is created, not when it wires the first ORM.
    resolveOrmOptions('CacheTagsModule', { trackLoads, maxRowsPerWrite, cascadeDepth });
    const base: TagCacheOptions = { ...own, logger: own.logger ?? nestCacheLogger() };
    this.default = this.own(new TagCache(base));
    setDefaultScope(this.default, scope);
    for (const [name, entry] of Object.entries(caches)) {
      const cache = entry instanceof TagCache ? entry : this.own(new TagCache(namedOptions(base, name, entry)));
      // A named cache given as options is the module's too; one given as an instance stays as it is.
      if (!(entry instanceof TagCache)) setDefaultScope(cache, scope);
      this.named.set(name, cache);
      registerTagCache(name, cache);
    }
    // Read before replacing it: shutdown restores it, so a closed cache never stays the default.
    this.previousDefault = getDefaultTagCache();
    setDefaultTagCache(this.default);
  }

  /** The cache registered under `name`. */
  get(name: string): TagCache {
    const cache = this.named.get(name);
    if (!cache) {
      const known = [...this.named.keys()].map((n) => `"${n}"`).join(', ') || 'none';
      throw new CacheTagsError(
        'E_UNKNOWN_CACHE',
        `CacheTagsModule: no cache named "${name}" in the module options (named caches: ${known}); add it to the caches option`,
      );
    }
    return cache;
  }

  async onApplicationShutdown(): Promise<void> {
    // Another module instance may have registered its own cache under the same name since.
    for (const [name, cache] of this.named) unregisterTagCache(name, cache);
    if (getDefaultTagCache() === this.default) setDefaultTagCache(this.previousDefault);
    await Promise.all(this.owned.map((cache) => cache.close()));
  }

  private own(cache: TagCache): TagCache {
    this.owned.push(cache);
    return cache;
  }
}

function namedOptions(base: TagCacheOptions, name: string, own: TagCacheOptions): TagCacheOptions {
  return { ...base, namespace: `${base.namespace ?? 'ct'}:${name}`, ...own };
}
