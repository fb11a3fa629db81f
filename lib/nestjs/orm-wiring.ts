import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { MODULE_OPTIONS_TOKEN } from './module-definition.js';
import { ModuleCaches } from './module-caches.js';
import type { CacheTagsModuleOptions } from './module-options.js';

/*
 * Recognised by shape, not with `instanceof`: importing `typeorm` or `@mikro-orm/core` here would
 * make every NestJS user install both. An ORM's integration is loaded only once an instance of that
 * ORM has been found.
 */
function isTypeOrmDataSource(value: any): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    value.constructor?.name === 'DataSource' &&
    typeof value.createQueryRunner === 'function' &&
    Array.isArray(value.subscribers)
  );
}

function isMikroOrm(value: any): boolean {
  return typeof value === 'object' && value !== null && typeof value.em?.getEventManager === 'function' && typeof value.config?.get === 'function';
}

/**
 * Installs the ORM integrations on every ORM instance the application registers as a provider
 * (`@nestjs/typeorm` registers each `DataSource`, `@mikro-orm/nestjs` each `MikroORM`), before any
 * module's own start-up code can write through them. They invalidate the module's default cache.
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
    if (dataSources.length > 0) await this.wireTypeOrm(dataSources);
    if (orms.length > 0) await this.wireMikroOrm(orms);
  }

  private async wireTypeOrm(dataSources: unknown[]): Promise<void> {
    const { installCacheTags } = await import('../typeorm/index.js');
    // One subscriber per data source, which invalidates one cache: the module's default.
    for (const dataSource of dataSources) installCacheTags(dataSource as never, { cache: this.caches.default });
  }

  private async wireMikroOrm(orms: unknown[]): Promise<void> {
    const { installCacheTags } = await import('../mikro-orm/index.js');
    for (const orm of orms) installCacheTags(orm as never, { cache: this.caches.default });
  }
}
