import { createHash } from 'node:crypto';
import { CacheTagsError } from '../../core/errors.js';
import { assertTags, describe } from '../../core/tracking-scope.js';
import type { CachePageOptions, CachePageRequest } from './options.js';

/** How one cacheable request is cached: under which key, with which tags. */
export interface RequestPlan {
  key: string;
  tags: string[];
}

/** The header names of `vary`, lower-cased, for the `Vary` response header. */
export function varyHeaders(options: CachePageOptions): string[] {
  return (options.vary ?? []).filter((v): v is string => typeof v === 'string').map((v) => v.toLowerCase());
}

/** Path and query of the URL, the query sorted by name so that `?a=1&b=2` and `?b=2&a=1` share a page. */
function normalizedUrl(req: CachePageRequest): string {
  const url = req.originalUrl ?? req.url ?? '';
  const mark = url.indexOf('?');
  if (mark < 0) return url;
  const params = [...new URLSearchParams(url.slice(mark + 1))];
  // A stable sort: repeated parameters keep their order, which may carry meaning.
  params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${url.slice(0, mark)}?${new URLSearchParams(params).toString()}`;
}

/**
 * What a `vary` value contributes to the key: a digest, never the value, so that a bearer token or
 * session cookie reaches neither the store nor the events (which carry the key).
 */
function varyDigest(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 22);
}

function header(req: CachePageRequest, name: string): string | undefined {
  const value = req.headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Whether the request may be served from the cache, and under which key. `undefined` when it may
 * not: a method other than GET/HEAD, or credentials (`Authorization`, `Cookie`) that `vary` does
 * not separate.
 */
export function planRequest(req: CachePageRequest, options: CachePageOptions, where: string): RequestPlan | undefined {
  const method = req.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const vary = options.vary ?? [];
  const named = varyHeaders(options);
  const byFunction = vary.some((v) => typeof v === 'function');
  const credentialed = header(req, 'authorization') !== undefined || header(req, 'cookie') !== undefined;
  if (header(req, 'authorization') !== undefined && !named.includes('authorization') && !byFunction) return undefined;
  if (header(req, 'cookie') !== undefined && !named.includes('cookie') && !byFunction) return undefined;

  const varied: (string | null)[] = [];
  for (const v of vary) {
    if (typeof v === 'string') {
      const value = header(req, v.toLowerCase());
      varied.push(value === undefined ? null : varyDigest(value));
      continue;
    }
    const value = v(req);
    if (value === undefined || value === null) {
      // The function cannot tell this user apart: a credentialed page must not be shared.
      if (credentialed) return undefined;
      varied.push(null);
    } else if (typeof value === 'string' || typeof value === 'number') {
      varied.push(varyDigest(String(value)));
    } else {
      throw new CacheTagsError('E_INVALID_KEY', `${where}: a vary function must return a string, a number or nothing, got ${describe(value)}`);
    }
  }

  const tags = typeof options.tags === 'function' ? options.tags(req) : (options.tags ?? []);
  assertTags(tags, `${where}: tags`);
  // HEAD is answered from the GET entry: Express routes it to the GET handler and sends no body.
  const key = `page:${JSON.stringify(['GET', normalizedUrl(req), varied])}`;
  return { key, tags: [...tags] };
}
