import type { TagCache, TagCacheOptions } from '../core/index.js';

/**
 * Options of {@link CacheTagsModule}: those of the default {@link TagCache}, plus named caches.
 * Without a `logger`, the caches log through Nest's `Logger` (context `CacheTags`), so that the
 * application's logger settings apply.
 * @public
 */
export interface CacheTagsModuleOptions extends TagCacheOptions {
  /**
   * Extra caches, by name: injected with `@InjectTagCache(name)` and used by
   * `@Cached({ cache: name })` and `@CachePage({ cache: name })`. Given as options, a named cache
   * inherits the module's options (its namespace becomes `<namespace>:<name>`); given as a
   * `TagCache`, it is used as is and stays yours to close.
   */
  caches?: Record<string, TagCacheOptions | TagCache>;
  /**
   * Install the ORM integrations on the ORM instances the application registers (every TypeORM
   * `DataSource` of `@nestjs/typeorm`, the `MikroORM` of `@mikro-orm/nestjs`). Default `true`.
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
