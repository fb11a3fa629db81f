import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost, MetadataScanner, Reflector } from '@nestjs/core';
import { pageHttp } from './http-response.js';
import { CACHE_PAGE_OPTIONS } from './metadata.js';

/**
 * Fails the application's start-up when one of its controllers uses `@CachePage` and its HTTP
 * adapter is not one `@CachePage` can serve: every such route would otherwise answer with errors.
 */
@Injectable()
export class CachePageAdapterCheck implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    // An application context (no HTTP server) serves no pages.
    const adapter = this.adapterHost.httpAdapter as HttpAdapterHost['httpAdapter'] | undefined;
    if (!adapter) return;
    const route = this.firstCachedRoute();
    if (route) pageHttp(adapter, `@CachePage on ${route}`);
  }

  /** `Class.method` of the first route marked with `@CachePage`, if any. */
  private firstCachedRoute(): string | undefined {
    // From the classes, not the instances: a request-scoped controller has none at start-up.
    for (const { metatype } of this.discovery.getControllers()) {
      if (typeof metatype !== 'function') continue;
      const onClass = this.reflector.get(CACHE_PAGE_OPTIONS, metatype) !== undefined;
      const prototype = metatype.prototype as Record<string, unknown>;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        if (onClass || this.reflector.get(CACHE_PAGE_OPTIONS, prototype[name] as () => unknown) !== undefined) return `${metatype.name}.${name}`;
      }
    }
    return undefined;
  }
}
