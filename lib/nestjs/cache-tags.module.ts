import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TagCache } from '../core/tag-cache.js';
import { CachePageAdapterCheck } from './cache-page/adapter-check.js';
import { CachePageInterceptor } from './cache-page/cache-page.interceptor.js';
import { CachePageSettings } from './cache-page/settings.js';
import { ASYNC_OPTIONS_TYPE, ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE } from './module-definition.js';
import { ModuleCaches } from './module-caches.js';
import { OrmWiring } from './orm-wiring.js';
import { getTagCacheToken } from './tokens.js';

/**
 * Options of {@link CacheTagsModule.forRootAsync}: Nest's usual `imports`, `inject` and
 * `useFactory` (or `useClass`/`useExisting`), plus the names of the caches the factory returns in
 * `caches`, which must be known before the factory runs to be injectable.
 * @public
 */
export type CacheTagsModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE & { cacheNames?: string[] };

/**
 * The NestJS front door of cache-tags. Provides a {@link TagCache} (and the named caches) to every
 * module, makes `@Cached` methods use it, installs the ORM integration on the TypeORM data sources
 * and MikroORM instances the application registers, and closes the store when the application
 * closes. Global by default (`isGlobal: false` to opt out).
 *
 * @example
 * ```ts
 * @Module({ imports: [TypeOrmModule.forRoot({ ... }), CacheTagsModule.forRoot({ store: process.env.REDIS_URL })] })
 * export class AppModule {}
 * ```
 * @public
 */
@Module({})
export class CacheTagsModule extends ConfigurableModuleClass {
  /** Configures the module with options known at import time. */
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return withCaches(super.forRoot(options), Object.keys(options.caches ?? {}));
  }

  /** Configures the module with options computed by a factory (e.g. from a ConfigService). */
  static override forRootAsync(options: CacheTagsModuleAsyncOptions): DynamicModule {
    return withCaches(super.forRootAsync(options), options.cacheNames ?? []);
  }
}

function withCaches(definition: DynamicModule, names: string[]): DynamicModule {
  const named: Provider[] = names.map((name) => ({
    provide: getTagCacheToken(name),
    useFactory: (caches: ModuleCaches) => caches.get(name),
    inject: [ModuleCaches],
  }));
  const providers: Provider[] = [
    { provide: ModuleCaches, useFactory: (options: typeof OPTIONS_TYPE) => new ModuleCaches(options), inject: [MODULE_OPTIONS_TOKEN] },
    { provide: TagCache, useFactory: (caches: ModuleCaches) => caches.default, inject: [ModuleCaches] },
    ...named,
    OrmWiring,
    { provide: CachePageSettings, useFactory: (options: typeof OPTIONS_TYPE) => new CachePageSettings(options?.cachePageHeader), inject: [MODULE_OPTIONS_TOKEN] },
    CachePageAdapterCheck,
    CachePageInterceptor,
  ];
  return {
    ...definition,
    imports: [...(definition.imports ?? []), DiscoveryModule],
    providers: [...(definition.providers ?? []), ...providers],
    exports: [...(definition.exports ?? []), TagCache, ...names.map((name) => getTagCacheToken(name)), CachePageSettings, CachePageInterceptor],
  };
}
