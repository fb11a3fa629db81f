import { createHash } from 'node:crypto';
import { HttpException } from '@nestjs/common';
import type { PageHttp } from './http-response.js';

/** A response as stored in the cache. */
export interface StoredPage {
  /** Status code. */
  s: number;
  /** Headers the handler set (names lower-cased), content type included. */
  h: Record<string, string | string[]>;
  /** The body as sent, or the response of a cached `HttpException`. */
  b: string;
  /** Set when the handler threw an `HttpException` whose status is cached: its response. */
  x?: string | object;
  /** Set for a `@Render` route: the handler's result (the view model), which the view engine renders on each request. */
  r?: { model: unknown };
}

/** How the cache answered a request, for the `X-Cache` header: `HIT` when its handler did not run. */
export type CacheOutcome = 'HIT' | 'MISS';

/** Headers that belong to one exchange, or that the cache sets itself. */
const NOT_REPLAYED = new Set(['set-cookie', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date']);

/** The response headers as they are before the handler runs: those set by middleware are not stored. */
export function headerSnapshot(http: PageHttp, res: unknown): Map<string, string> {
  return new Map(Object.entries(http.headers(res)).map(([name, value]) => [name.toLowerCase(), JSON.stringify(value)]));
}

/** Why a response must not be stored, or `undefined` when it may. */
function unstorable(http: PageHttp, res: unknown, status: number, statuses: readonly number[]): string | undefined {
  if (http.sent(res)) return 'the handler sent the response itself';
  if ((status < 200 || status > 299) && !statuses.includes(status)) return `status ${status}`;
  if (http.header(res, 'set-cookie') !== undefined) return 'it sets a cookie';
  const cacheControl = String(http.header(res, 'cache-control') ?? '').toLowerCase();
  if (/(^|[\s,])(no-store|private)($|[\s,=])/.test(cacheControl)) return `Cache-Control: ${cacheControl}`;
  return undefined;
}

/** The headers the handler set, as they are to be replayed. */
function ownHeaders(http: PageHttp, res: unknown, before: Map<string, string>): StoredPage['h'] {
  const headers: StoredPage['h'] = {};
  for (const [name, raw] of Object.entries(http.headers(res))) {
    const lower = name.toLowerCase();
    if (raw === undefined || NOT_REPLAYED.has(lower) || before.get(lower) === JSON.stringify(raw)) continue;
    headers[lower] = Array.isArray(raw) ? raw.map(String) : String(raw);
  }
  return headers;
}

/**
 * Turns what the handler returned (and the headers it set) into a page to store, or says why it
 * cannot be stored. With `rendered`, the value is the view model of a `@Render` template.
 */
export function capturePage(value: unknown, http: PageHttp, res: unknown, before: Map<string, string>, statuses: readonly number[], rendered: boolean): StoredPage | string {
  const status = http.status(res);
  const reason = unstorable(http, res, status, statuses);
  if (reason) return reason;
  if (rendered) return { s: status, h: ownHeaders(http, res, before), b: '', r: { model: value } };
  const wire = http.wireBody(value);
  if (!wire) return 'the body is a file, a stream or binary data';
  const headers = ownHeaders(http, res, before);
  if (headers['content-type'] === undefined && http.header(res, 'content-type') === undefined && wire.type) headers['content-type'] = wire.type;
  return { s: status, h: headers, b: wire.body };
}

/** The page of a thrown `HttpException` whose status is cached. */
export function captureException(error: HttpException): StoredPage {
  return { s: error.getStatus(), h: {}, b: '', x: error.getResponse() };
}

/** A strong validator of the body: the same bytes always get the same ETag, across processes. */
export function etagOf(body: string): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`;
}

/** Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for this header). */
function notModified(ifNoneMatch: string | string[] | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const wanted = opaque(etag);
  return String(ifNoneMatch)
    .split(',')
    .some((tag) => tag.trim() === '*' || opaque(tag) === wanted);
}

/** Sets the cache-outcome header (`X-Cache` by default) unless the module turned it off. */
export function markOutcome(http: PageHttp, res: unknown, header: string | false, outcome: CacheOutcome): void {
  if (header) http.setHeader(res, header, outcome);
}

/**
 * Applies a stored page to the response and returns the body for Nest to send: an empty one with
 * `304` when the request's `If-None-Match` names the page's ETag. A `@Render` page returns its
 * view model, which the view engine renders.
 */
export function replayPage(page: StoredPage, http: PageHttp, res: unknown, ifNoneMatch: string | string[] | undefined, varied: string[]): unknown {
  if (page.x !== undefined) throw new HttpException(page.x, page.s);
  http.setStatus(res, page.s);
  for (const [name, value] of Object.entries(page.h)) http.setHeader(res, name, value);
  applyVary(http, res, varied);
  if (page.r) return page.r.model;
  let etag = http.header(res, 'etag');
  if (etag === undefined) {
    etag = etagOf(page.b);
    http.setHeader(res, 'ETag', etag);
  }
  if (page.s >= 200 && page.s <= 299 && notModified(ifNoneMatch, String(etag))) {
    http.setStatus(res, 304);
    return '';
  }
  return page.b;
}

/** Adds the varied request headers to the response's `Vary`, for the caches downstream. */
export function applyVary(http: PageHttp, res: unknown, varied: string[]): void {
  if (varied.length === 0) return;
  const current = String(http.header(res, 'vary') ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  const missing = varied.filter((v) => !current.some((c) => c.toLowerCase() === v));
  if (missing.length > 0) http.setHeader(res, 'Vary', [...current, ...missing].join(', '));
}
