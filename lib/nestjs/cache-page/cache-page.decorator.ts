import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { CachePageInterceptor } from './cache-page.interceptor.js';
import { CACHE_PAGE_OPTIONS } from './metadata.js';
import { assertCachePageOptions, type CachePageOptions } from './options.js';

/**
 * Caches the responses of a GET route (HEAD is answered from the same entry) until one of the
 * page's tags is invalidated, on Express and on Fastify. On a controller, it applies to each of its
 * routes (a route's own `@CachePage` wins). Responses get an `ETag` (a matching `If-None-Match`
 * gets a `304`) and `X-Cache: HIT` or `MISS` (the module's `cachePageHeader`). On a `@Render`
 * route the handler's result is cached and the view engine renders it on each request.
 *
 * Never stored: responses that set a cookie, send `Cache-Control: no-store` or `private`, or have
 * a status outside 2xx and `statuses`; requests with `Authorization` or `Cookie` unless `vary`
 * separates them.
 *
 * @example
 * ```ts
 * @Get(':id')
 * @CachePage({ tags: ({ params }) => [`Photo_${params.id}`], ttl: 60_000 })
 * findOne(@Param('id') id: string) { return this.photos.findOne(+id); }
 * ```
 * @public
 */
export function CachePage(options: CachePageOptions = {}): MethodDecorator & ClassDecorator {
  assertCachePageOptions(options);
  return applyDecorators(SetMetadata(CACHE_PAGE_OPTIONS, options), UseInterceptors(CachePageInterceptor));
}
