import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { CacheTagsOrmOptions } from '../orm/options.js';
import { isMikroOrm, isTypeOrmDataSource } from '../orm/detect.js';
import { MODULE_OPTIONS_TOKEN } from './module-definition.js';
import { ModuleCaches } from './module-caches.js';
import type { CacheTagsModuleOptions } from './module-options.js';
import { nestCacheLogger } from './nest-logger.js';

interface Installed {
  options: { logger?: unknown };
  configure(options: CacheTagsOrmOptions): void;
}

/**
 * The ORM options the module hands to each integration: the module's default cache, and the ORM
 * options it was given. Options left out are left out here too, so that an ORM configured with
 * its own (`defineCacheTagsConfig(config, { trackLoads: false })`) keeps them.
 */
function ormOptionsOf(options: CacheTagsModuleOptions, caches: ModuleCaches): CacheTagsOrmOptions {
  const { logger, trackLoads, maxRowsPerWrite, cascadeDepth } = options;
  const given: CacheTagsOrmOptions = { cache: caches.default, logger, trackLoads, maxRowsPerWrite, cascadeDepth };
  return Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined));
}

/** Installs with the module's options; an integration left with no logger at all reports through Nest's. */
function wire(install: (orm: never, options: CacheTagsOrmOptions) => Installed, orm: unknown, options: CacheTagsOrmOptions): void {
  const subscriber = install(orm as never, options);
  if (!subscriber.options.logger) subscriber.configure({ logger: nestCacheLogger() });
}

/**
 * Installs the ORM integrations on every ORM instance the application registers as a provider
 * (`@nestjs/typeorm` registers each `DataSource`, `@mikro-orm/nestjs` each `MikroORM`), before any
 * module's own start-up code can write through them. They invalidate the module's default cache.
 * ORMs are recognised by their API (lib/orm/detect.ts), so a subclassed or renamed DataSource is
 * wired too, and neither ORM is imported until an instance of it has been found: a NestJS user
 * installs only the ORM they use.
 */
@Injectable()
export class OrmWiring implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly caches: ModuleCaches,
    @Inject(MODULE_OPTIONS_TOKEN) private readonly options: CacheTagsModuleOptions,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.options.wireOrm === false) return;
    const instances = new Set<unknown>();
    for (const wrapper of this.discovery.getProviders()) {
      // Request-scoped providers have no instance to wire at start-up.
      if (wrapper.isDependencyTreeStatic() && wrapper.instance) instances.add(wrapper.instance);
    }
    const dataSources = [...instances].filter(isTypeOrmDataSource);
    const orms = [...instances].filter(isMikroOrm);
    const options = ormOptionsOf(this.options, this.caches);
    if (dataSources.length > 0) {
      const { installCacheTags } = await import('../typeorm/index.js');
      // One subscriber per data source: installing on one wired already switches its options.
      for (const dataSource of dataSources) wire(installCacheTags, dataSource, options);
    }
    if (orms.length > 0) {
      const { installCacheTags } = await import('../mikro-orm/index.js');
      for (const orm of orms) wire(installCacheTags, orm, options);
    }
  }
}
