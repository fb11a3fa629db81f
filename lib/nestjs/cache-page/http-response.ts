import { StreamableFile } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { isObservable } from 'rxjs';
import { CacheTagsError } from '../../core/errors.js';

/** A response header as the adapters report it. */
export type HeaderValue = number | string | string[] | undefined;

/** The HTTP adapters whose responses `@CachePage` knows how to read and replay. */
export type ServedAdapter = 'express' | 'fastify';

const SERVED: readonly ServedAdapter[] = ['express', 'fastify'];

/**
 * How `@CachePage` reads and writes the responses of the application's HTTP adapter. Status and
 * headers go through Nest's adapter methods; the list of headers set so far and the status code are
 * read from the response itself, where Express's `res` and Fastify's `reply` agree.
 */
export interface PageHttp {
  readonly adapter: ServedAdapter;
  status(res: unknown): number;
  setStatus(res: unknown, code: number): void;
  headers(res: unknown): Record<string, HeaderValue>;
  header(res: unknown, name: string): HeaderValue;
  setHeader(res: unknown, name: string, value: string | readonly string[]): void;
  /** Whether the handler already sent the response itself (`@Res()` without passthrough). */
  sent(res: unknown): boolean;
  /**
   * The body exactly as the adapter sends `value`, with the content type it gives it; `undefined`
   * for values that are not a plain body (files, streams, binary data, functions, symbols).
   */
  wireBody(value: unknown): { body: string; type: string | undefined } | undefined;
}

interface ResponseWithHeaders {
  statusCode: number;
  getHeaders(): Record<string, HeaderValue>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

function isPlainBody(value: unknown): boolean {
  if (value instanceof StreamableFile || isObservable(value) || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return false;
  return typeof (value as { pipe?: unknown }).pipe !== 'function';
}

/** Express (`ExpressAdapter.reply`): objects through `res.json`, other values through `res.send(String(value))` as HTML. */
function expressBody(value: unknown): { body: string; type: string | undefined } | undefined {
  if (value === undefined || value === null) return { body: '', type: undefined };
  if (!isPlainBody(value)) return undefined;
  if (typeof value === 'object') return { body: JSON.stringify(value) ?? '', type: JSON_TYPE };
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return { body: String(value), type: 'text/html; charset=utf-8' };
  }
  return undefined;
}

/** Fastify (`reply.send`): strings as plain text, objects, numbers and booleans serialized as JSON. */
function fastifyBody(value: unknown): { body: string; type: string | undefined } | undefined {
  if (value === undefined || value === null) return { body: '', type: undefined };
  if (!isPlainBody(value)) return undefined;
  if (typeof value === 'string') return { body: value, type: 'text/plain; charset=utf-8' };
  if (typeof value === 'object' || typeof value === 'number' || typeof value === 'boolean') return { body: JSON.stringify(value) ?? '', type: JSON_TYPE };
  return undefined;
}

/**
 * The response access of the application's HTTP adapter. Throws a `CacheTagsError` naming the
 * adapter when it is not one `@CachePage` can serve, so that the application fails at start-up
 * rather than answering with errors.
 */
export function pageHttp(adapter: AbstractHttpAdapter, where: string): PageHttp {
  const type = adapter.getType();
  if (!SERVED.includes(type as ServedAdapter)) {
    throw new CacheTagsError(
      'E_INVALID_OPTION',
      `${where}: the HTTP adapter "${type}" (${adapter.constructor.name}) is not one @CachePage can serve; it serves ${SERVED.join(' and ')} (@nestjs/platform-express, @nestjs/platform-fastify)`,
    );
  }
  return {
    adapter: type as ServedAdapter,
    status: (res) => (res as ResponseWithHeaders).statusCode,
    setStatus: (res, code) => adapter.status(res, code),
    headers: (res) => (res as ResponseWithHeaders).getHeaders(),
    header: (res, name) => adapter.getHeader(res, name) as HeaderValue,
    // Both adapters take an array for a repeated header, although Nest types the value as a string.
    setHeader: (res, name, value) => adapter.setHeader(res, name, value as string),
    sent: (res) => Boolean(adapter.isHeadersSent(res)),
    wireBody: type === 'express' ? expressBody : fastifyBody,
  };
}
