import { createHash } from 'node:crypto';
import { HttpException, StreamableFile } from '@nestjs/common';
import { isObservable } from 'rxjs';

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
}

/** The parts of Express's response the interceptor reads and writes. */
export interface PageResponse {
  statusCode: number;
  headersSent: boolean;
  getHeaders(): Record<string, number | string | string[] | undefined>;
  getHeader(name: string): number | string | string[] | undefined;
  setHeader(name: string, value: number | string | readonly string[]): unknown;
  status(code: number): unknown;
}

/** Headers that belong to one exchange, or that the cache sets itself. */
const NOT_REPLAYED = new Set(['set-cookie', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date']);

/** The response headers as they are before the handler runs: those set by middleware are not stored. */
export function headerSnapshot(res: PageResponse): Map<string, string> {
  return new Map(Object.entries(res.getHeaders()).map(([name, value]) => [name.toLowerCase(), JSON.stringify(value)]));
}

/** Why a response must not be stored, or `undefined` when it may. */
function unstorable(res: PageResponse, status: number, statuses: readonly number[]): string | undefined {
  if (res.headersSent) return 'the handler sent the response itself';
  if ((status < 200 || status > 299) && !statuses.includes(status)) return `status ${status}`;
  if (res.getHeader('set-cookie') !== undefined) return 'it sets a cookie';
  const cacheControl = String(res.getHeader('cache-control') ?? '').toLowerCase();
  if (/(^|[\s,])(no-store|private)($|[\s,=])/.test(cacheControl)) return `Cache-Control: ${cacheControl}`;
  return undefined;
}

/**
 * The body exactly as Nest's Express adapter would send `value`, with the content type it would
 * get; `undefined` for values that are not a plain body (files, streams, functions, symbols).
 */
function wireBody(value: unknown): { body: string; type: string | undefined } | undefined {
  if (value === undefined || value === null) return { body: '', type: undefined };
  if (value instanceof StreamableFile || isObservable(value) || typeof (value as { pipe?: unknown }).pipe === 'function') return undefined;
  if (typeof value === 'object') return { body: JSON.stringify(value) ?? '', type: 'application/json; charset=utf-8' };
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return { body: String(value), type: 'text/html; charset=utf-8' };
  }
  return undefined;
}

/**
 * Turns what the handler returned (and the headers it set) into a page to store, or says why it
 * cannot be stored.
 */
export function capturePage(value: unknown, res: PageResponse, before: Map<string, string>, statuses: readonly number[]): StoredPage | string {
  const status = res.statusCode;
  const reason = unstorable(res, status, statuses);
  if (reason) return reason;
  const wire = wireBody(value);
  if (!wire) return 'the body is a file or a stream';
  const headers: StoredPage['h'] = {};
  for (const [name, raw] of Object.entries(res.getHeaders())) {
    const lower = name.toLowerCase();
    if (raw === undefined || NOT_REPLAYED.has(lower) || before.get(lower) === JSON.stringify(raw)) continue;
    headers[lower] = Array.isArray(raw) ? raw.map(String) : String(raw);
  }
  if (headers['content-type'] === undefined && res.getHeader('content-type') === undefined && wire.type) headers['content-type'] = wire.type;
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

/**
 * Applies a stored page to the response and returns the body for Nest to send. Express's `send`
 * then answers `304` by itself when the request's `If-None-Match` matches the ETag.
 */
export function replayPage(page: StoredPage, res: PageResponse, varied: string[]): string {
  if (page.x !== undefined) throw new HttpException(page.x, page.s);
  res.status(page.s);
  for (const [name, value] of Object.entries(page.h)) res.setHeader(name, value);
  applyVary(res, varied);
  if (res.getHeader('etag') === undefined) res.setHeader('ETag', etagOf(page.b));
  return page.b;
}

/** Adds the varied request headers to the response's `Vary`, for the caches downstream. */
export function applyVary(res: PageResponse, varied: string[]): void {
  if (varied.length === 0) return;
  const current = String(res.getHeader('vary') ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  const missing = varied.filter((v) => !current.some((c) => c.toLowerCase() === v));
  if (missing.length > 0) res.setHeader('Vary', [...current, ...missing].join(', '));
}
