import { type CallHandler, type ExecutionContext, HttpException, Injectable, type NestInterceptor } from '@nestjs/common';
import { RENDER_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import { defer, lastValueFrom, type Observable } from 'rxjs';
import { getTagCache } from '../../core/cache-registry.js';
import { TagCache } from '../../core/tag-cache.js';
import { CACHE_PAGE_OPTIONS } from './metadata.js';
import type { CachePageOptions, CachePageRequest } from './options.js';
import { applyVary, captureException, capturePage, headerSnapshot, replayPage, type PageResponse, type StoredPage } from './page.js';
import { planRequest, varyHeaders } from './request-plan.js';

/** Carries a response that must not be stored out of the cache computation, so that nothing is stored. */
class NotStored extends Error {
  constructor(readonly value: unknown) {
    super('the response must not be stored');
  }
}

/** Requests an outer `@CachePage` interceptor already handles (class and method both decorated). */
const handled = new WeakSet<object>();

/**
 * Caches the responses of the routes marked with {@link CachePage}: `@CachePage` binds it, and it
 * can also be bound globally (`APP_INTERCEPTOR`), where it caches only the marked routes. The
 * handler runs inside the cache computation, so the tags its `@Cached` services and entity loads
 * bubble up become the page's tags.
 * @public
 */
@Injectable()
export class CachePageInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly cache: TagCache,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const options = this.reflector.getAllAndOverride<CachePageOptions | undefined>(CACHE_PAGE_OPTIONS, [context.getHandler(), context.getClass()]);
    const req = context.switchToHttp().getRequest<CachePageRequest>();
    // A page rendered with @Render is sent through the view engine, which this cache does not see.
    if (!options || handled.has(req) || this.reflector.get(RENDER_METADATA, context.getHandler())) return next.handle();
    handled.add(req);
    const res = context.switchToHttp().getResponse<PageResponse>();
    const where = `@CachePage on ${context.getClass().name}.${context.getHandler().name}`;
    return defer(() => this.serve(req, res, options, where, next));
  }

  private async serve(req: CachePageRequest, res: PageResponse, options: CachePageOptions, where: string, next: CallHandler): Promise<unknown> {
    const varied = varyHeaders(options);
    const plan = planRequest(req, options, where);
    if (!plan) {
      applyVary(res, varied);
      return lastValueFrom(next.handle(), { defaultValue: undefined });
    }
    const cache = options.cache ? getTagCache(options.cache) : this.cache;
    let ran = false;
    let page: StoredPage;
    try {
      const render = () => {
        ran = true;
        return this.render(res, options, next);
      };
      page = await cache.wrap(plan.key, render, { tags: plan.tags, ttl: options.ttl });
    } catch (error) {
      if (!ran) {
        // This request joined another one's computation that ended without a page: its own handler
        // must answer it (that response may have been meant for the other request alone).
        return lastValueFrom(next.handle(), { defaultValue: undefined });
      }
      if (error instanceof NotStored) {
        applyVary(res, varied);
        return error.value;
      }
      throw error;
    }
    return replayPage(page, res, varied);
  }

  /** Runs the handler and captures its response; throws {@link NotStored} when it must not be cached. */
  private async render(res: PageResponse, options: CachePageOptions, next: CallHandler): Promise<StoredPage> {
    const before = headerSnapshot(res);
    let value: unknown;
    try {
      value = await lastValueFrom(next.handle(), { defaultValue: undefined });
    } catch (error) {
      if (error instanceof HttpException && options.statuses?.includes(error.getStatus())) return captureException(error);
      throw error;
    }
    const page = capturePage(value, res, before, options.statuses ?? []);
    if (typeof page === 'string') throw new NotStored(value);
    return page;
  }
}
