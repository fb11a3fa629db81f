import type { TagCache, TagCacheOptions } from '../core/index.js';
import type { CacheTagsOrmOptions } from '../orm/options.js';

/**
 * Options of {@link CacheTagsModule}: those of the default {@link TagCache}, plus named caches, plus
 * the ORM options (`trackLoads`, `maxRowsPerWrite`, `cascadeDepth`: the same as
 * `installCacheTags`'s, docs/orm-contract.md) of the ORMs it wires. Without a `logger`, the caches
 * and the ORM integrations log through Nest's `Logger` (context `CacheTags`), so that the
 * application's logger settings apply. An ORM option left out keeps the value the ORM was
 * configured with (`defineCacheTagsConfig(config, options)`), or the default.
 * @public
 */
export interface CacheTagsModuleOptions extends TagCacheOptions, Pick<CacheTagsOrmOptions, 'trackLoads' | 'maxRowsPerWrite' | 'cascadeDepth'> {
  /**
   * Extra caches, by name: injected with `@InjectTagCache(name)` and used by
   * `@Cached({ cache: name })` and `@CachePage({ cache: name })`. Given as options, a named cache
   * inherits the module's options (its namespace becomes `<namespace>:<name>`); given as a
   * `TagCache`, it is used as is and stays yours to close.
   */
  caches?: Record<string, TagCacheOptions | TagCache>;
  /**
   * Install the ORM integrations on the ORM instances the application registers (every TypeORM
   * `DataSource` of `@nestjs/typeorm`, the `MikroORM` of `@mikro-orm/nestjs`), with the ORM options
   * of the module. An ORM already wired (a MikroORM config through `defineCacheTagsConfig`) keeps its
   * one subscriber, switched to the module's cache and the ORM options given here.
   * @default true
   */
  wireOrm?: boolean;
  /**
   * Response header that tells whether a `@CachePage` response came from the cache (`HIT`: its
   * handler did not run for this request) or not (`MISS`). `false`: no such header.
   * @default 'X-Cache'
   */
  cachePageHeader?: string | false;
  /**
   * The scope every `@Cached` method of the module's caches takes part of its key from, unless
   * the method sets its own `scope` (or `scope: false`): for per-tenant or request-scoped data,
   * e.g. `scope: () => tenantContext.getStore()?.tenantId`. It must return a value for every call:
   * `undefined` or `null` is an error, so nothing is shared by mistake. See `setDefaultScope`.
   * @default none: keys hold no scope
   */
  scope?: (self: any) => unknown;
}
