import type { IncomingHttpHeaders } from 'node:http';
import { CacheTagsError } from '../../core/errors.js';
import { assertTags, describe } from '../../core/tracking-scope.js';

/**
 * What a `@CachePage` function sees of the request (Express's request has all of it).
 * @public
 */
export interface CachePageRequest {
  method: string;
  /** The URL as received, with the query (Express keeps it when routers are mounted). */
  originalUrl?: string;
  url?: string;
  /** Route parameters, e.g. `{ id: '42' }`. */
  params: Record<string, string>;
  query: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  /** Set by an authentication guard, when there is one. */
  user?: any;
  [key: string]: unknown;
}

/**
 * One thing that separates cached pages: a request header name (`'authorization'`,
 * `'accept-language'`), or a function of the request (`(req) => req.user?.id`).
 * @public
 */
export type CachePageVary = string | ((req: CachePageRequest) => string | number | undefined | null);

/**
 * Options of {@link CachePage}.
 * @public
 */
export interface CachePageOptions {
  /**
   * Tags of the page, from the request: `({ params }) => [\`Book_${params.id}\`]`. The tags that the
   * handler's `@Cached` services, `addCacheTags` calls and tracked entity loads bubble up are added.
   */
  tags?: readonly string[] | ((req: CachePageRequest) => readonly string[]);
  /** Time to live in ms (0: no expiry). Default: the cache's `ttl`. */
  ttl?: number;
  /**
   * What separates the pages of one URL. A request that carries `Authorization` or `Cookie` is
   * cached only when `vary` names that header or has a function (which must then return a value for
   * it): otherwise one user's page could be served to another. Named headers are sent in `Vary`.
   */
  vary?: readonly CachePageVary[];
  /** Statuses outside 2xx that may be cached too, e.g. `[404]` (thrown `HttpException`s included). */
  statuses?: readonly number[];
  /** The cache to use: the name of one of the module's `caches`. Default: the module's cache. */
  cache?: string;
}

/** Checks `@CachePage` options when the decorator is applied, so that mistakes show at start-up. */
export function assertCachePageOptions(options: unknown): asserts options is CachePageOptions {
  const where = '@CachePage';
  if (typeof options !== 'object' || options === null) {
    throw new CacheTagsError('E_INVALID_OPTION', `${where}: options must be an object, got ${describe(options)}`);
  }
  const { tags, ttl, vary, statuses, cache } = options as CachePageOptions;
  if (tags !== undefined && typeof tags !== 'function') assertTags(tags, `${where} option tags`);
  if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0)) {
    throw new CacheTagsError('E_INVALID_OPTION', `${where}: option ttl must be a non-negative number of milliseconds, got ${describe(ttl)}`);
  }
  if (vary !== undefined && (!Array.isArray(vary) || !vary.every((v) => (typeof v === 'string' && v.length > 0) || typeof v === 'function'))) {
    throw new CacheTagsError('E_INVALID_OPTION', `${where}: option vary must be an array of header names and functions of the request, got ${describe(vary)}`);
  }
  if (statuses !== undefined && (!Array.isArray(statuses) || !statuses.every((s) => Number.isInteger(s) && s >= 100 && s <= 599))) {
    throw new CacheTagsError('E_INVALID_OPTION', `${where}: option statuses must be an array of HTTP status codes, got ${describe(statuses)}`);
  }
  if (cache !== undefined && (typeof cache !== 'string' || cache.length === 0)) {
    throw new CacheTagsError('E_INVALID_OPTION', `${where}: option cache must be the name of one of the module's caches, got ${describe(cache)}`);
  }
}
