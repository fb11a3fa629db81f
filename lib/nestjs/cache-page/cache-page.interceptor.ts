import { type CallHandler, type ExecutionContext, HttpException, Injectable, Logger, type NestInterceptor } from '@nestjs/common';
import { RENDER_METADATA } from '@nestjs/common/constants.js';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { defer, lastValueFrom, type Observable } from 'rxjs';
import { getTagCache } from '../../core/cache-registry.js';
import { TagCache } from '../../core/tag-cache.js';
import { pageHttp, type PageHttp } from './http-response.js';
import { CACHE_PAGE_OPTIONS } from './metadata.js';
import type { CachePageOptions, CachePageRequest } from './options.js';
import { applyVary, captureException, capturePage, headerSnapshot, markOutcome, replayPage, type StoredPage } from './page.js';
import { planRequest, varyHeaders } from './request-plan.js';
import { CachePageSettings } from './settings.js';

/** Carries a response that must not be stored out of the cache computation, so that nothing is stored. */
class NotStored extends Error {
  constructor(
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`the response must not be stored: ${reason}`);
  }
}

/** Requests an outer `@CachePage` interceptor already handles (class and method both decorated). */
const handled = new WeakSet<object>();

/** What one route's requests share while they are served. */
interface Route {
  options: CachePageOptions;
  where: string;
  rendered: boolean;
}

/**
 * Caches the responses of the routes marked with {@link CachePage}: `@CachePage` binds it, and it
 * can also be bound globally (`APP_INTERCEPTOR`), where it caches only the marked routes. The
 * handler runs inside the cache computation, so the tags its `@Cached` services and entity loads
 * bubble up become the page's tags. Works on Express and Fastify, through Nest's HTTP adapter.
 * @public
 */
@Injectable()
export class CachePageInterceptor implements NestInterceptor {
  private readonly logger = new Logger('CachePage');
  private http: PageHttp | undefined;

  constructor(
    private readonly reflector: Reflector,
    private readonly cache: TagCache,
    private readonly adapterHost: HttpAdapterHost,
    private readonly settings: CachePageSettings,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const options = this.reflector.getAllAndOverride<CachePageOptions | undefined>(CACHE_PAGE_OPTIONS, [context.getHandler(), context.getClass()]);
    const req = context.switchToHttp().getRequest<CachePageRequest>();
    if (!options || handled.has(req)) return next.handle();
    handled.add(req);
    const res: unknown = context.switchToHttp().getResponse();
    const where = `@CachePage on ${context.getClass().name}.${context.getHandler().name}`;
    this.http ??= pageHttp(this.adapterHost.httpAdapter, where);
    const route: Route = { options, where, rendered: this.reflector.get(RENDER_METADATA, context.getHandler()) !== undefined };
    return defer(() => this.serve(this.http!, req, res, route, next));
  }

  private async serve(http: PageHttp, req: CachePageRequest, res: unknown, route: Route, next: CallHandler): Promise<unknown> {
    const { options, where } = route;
    const varied = varyHeaders(options);
    const plan = planRequest(req, options, where);
    if (!plan) {
      this.logger.debug(`${where}: ${req.method} ${req.originalUrl ?? req.url} is not cached (not GET/HEAD, or credentials that vary does not separate)`);
      return this.uncached(http, res, varied, next);
    }
    const cache = options.cache ? getTagCache(options.cache) : this.cache;
    let ran = false;
    let page: StoredPage;
    try {
      const render = () => {
        ran = true;
        return this.render(http, res, route, next);
      };
      page = await cache.wrap(plan.key, render, { tags: plan.tags, ttl: options.ttl });
    } catch (error) {
      if (!ran) {
        // This request joined another one's computation that ended without a page: its own handler
        // must answer it (that response may have been meant for the other request alone).
        return this.uncached(http, res, varied, next);
      }
      if (error instanceof NotStored) {
        this.logger.debug(`${where}: response to ${req.method} ${req.originalUrl ?? req.url} not stored: ${error.reason}`);
        applyVary(http, res, varied);
        markOutcome(http, res, this.settings.header, 'MISS');
        return error.value;
      }
      throw error;
    }
    markOutcome(http, res, this.settings.header, ran ? 'MISS' : 'HIT');
    return replayPage(page, http, res, req.headers['if-none-match'], varied);
  }

  /** Answers with the handler's own response, which is not stored. */
  private async uncached(http: PageHttp, res: unknown, varied: string[], next: CallHandler): Promise<unknown> {
    applyVary(http, res, varied);
    markOutcome(http, res, this.settings.header, 'MISS');
    return lastValueFrom(next.handle(), { defaultValue: undefined });
  }

  /** Runs the handler and captures its response; throws {@link NotStored} when it must not be cached. */
  private async render(http: PageHttp, res: unknown, route: Route, next: CallHandler): Promise<StoredPage> {
    const before = headerSnapshot(http, res);
    let value: unknown;
    try {
      value = await lastValueFrom(next.handle(), { defaultValue: undefined });
    } catch (error) {
      if (error instanceof HttpException && route.options.statuses?.includes(error.getStatus())) return captureException(error);
      throw error;
    }
    const page = capturePage(value, http, res, before, route.options.statuses ?? [], route.rendered);
    if (typeof page === 'string') throw new NotStored(value, page);
    return page;
  }
}
