import { createHash } from 'node:crypto';
import { addCacheTags, CacheTagsError, type TagCache } from '../core/index.js';
import { describe } from '../core/tracking-scope.js';

/**
 * How one query is cached: the ORM's `cache` option in object form, or the last argument of the
 * explicit form (`cachedQuery`).
 * @public
 */
export interface QueryCacheOptions {
  /**
   * A readable name for the query, put in front of its cache key (the key always holds a hash of
   * the whole query as well, so two queries given one id never share a result).
   * @default none
   */
  id?: string;
  /**
   * An upper bound on how long the result is kept, in ms: invalidation does not depend on it. The
   * ORM's spelling `milliseconds` (`cache: { milliseconds }`, `cache: 60000`) means the same.
   * @default the cache's `ttl`
   */
  ttl?: number;
  /**
   * The fields whose equality conditions may be watched (rule 3): a write changing another field
   * of a matching row still invalidates through the row's own tags when it is in the result, but
   * a write that only makes a row match through another field does not. Only fields listed among
   * the entity's condition fields count; with none of them in the query, it falls back to the
   * entity's type-level tag.
   * @default every condition field
   */
  invalidateOn?: readonly string[];
}

/** {@link QueryCacheOptions} checked, with `milliseconds` folded into `ttl`. */
export interface ResolvedQueryCache {
  id: string | undefined;
  ttl: number | undefined;
  invalidateOn: readonly string[] | undefined;
}

const KNOWN = new Set(['id', 'ttl', 'milliseconds', 'invalidateOn']);

function invalid(where: string, message: string): CacheTagsError {
  return new CacheTagsError('E_INVALID_OPTION', `${where}: ${message}`);
}

function duration(where: string, name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw invalid(where, `${name} must be an integer number of ms ≥ 0, got ${describe(value)}`);
  return value;
}

/**
 * Reads a `cache` option: `true`, a number of ms (the TTL bound; `0`: the cache's `ttl`), or
 * {@link QueryCacheOptions} (TypeORM's `{ id, milliseconds }` included) ask for caching;
 * `false`, `null` and `undefined` do not, and give `undefined`.
 * @throws CacheTagsError `E_INVALID_OPTION` naming what is wrong.
 */
export function resolveQueryCache(where: string, value: unknown): ResolvedQueryCache | undefined {
  if (value === undefined || value === false || value === null) return undefined;
  if (value === true) return { id: undefined, ttl: undefined, invalidateOn: undefined };
  if (typeof value === 'number') return { id: undefined, ttl: duration(where, 'cache', value) || undefined, invalidateOn: undefined };
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(where, `cache must be true, a number of ms or an object { id, ttl, invalidateOn }, got ${describe(value)}`);
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!KNOWN.has(key)) throw invalid(where, `unknown cache option ${key} (known: ${[...KNOWN].join(', ')})`);
  const { id, invalidateOn } = o;
  if (id !== undefined && !(typeof id === 'string' && id.length > 0) && typeof id !== 'number') throw invalid(where, `cache id must be a non-empty string, got ${describe(id)}`);
  if (invalidateOn !== undefined && !(Array.isArray(invalidateOn) && invalidateOn.length > 0 && invalidateOn.every((f) => typeof f === 'string' && f.length > 0))) {
    throw invalid(where, `invalidateOn must be a non-empty array of field names, got ${describe(invalidateOn)}`);
  }
  const ttl = duration(where, 'ttl', o.ttl) ?? duration(where, 'milliseconds', o.milliseconds);
  return { id: id === undefined ? undefined : String(id), ttl: ttl === 0 ? undefined : ttl, invalidateOn: invalidateOn as string[] | undefined };
}

/*
 * A query's cache key is a hash of a description of everything its result depends on: the
 * integration hands over a JSON-like value (entity, database, method, options with the ORM's
 * operators and entities turned into plain objects). Object keys are sorted, so the same query
 * written in another key order shares the entry. A value whose state is not in its own enumerable
 * properties (a `RegExp`, `Map`, `Set`, typed array, `URL`) is spelled by its content; any other
 * class instance is refused, since two different ones could spell alike and share one entry.
 */
/** Deeper than this, a description is circular (an entity with its relations loaded) or not meant as a key. */
const MAX_DEPTH = 32;

function cannotKey(value: unknown, path: string, why: string): CacheTagsError {
  return new CacheTagsError('E_INVALID_OPTION', `the query cannot be cached: it holds ${describe(value)} at ${path || 'the top'}, ${why}`);
}

/** The bytes of a binary value (a Buffer is handled before), or `undefined` for any other value. */
function bytesOf(value: object): Buffer | undefined {
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  return undefined;
}

function stableObject(value: object, path: string, depth: number): unknown {
  if (value instanceof Date) return { $d: value.getTime() };
  if (value instanceof RegExp) return { $re: [value.source, value.flags] };
  if (value instanceof URL) return { $url: value.href };
  if (Buffer.isBuffer(value)) return { $B: value.toString('base64') };
  const bytes = bytesOf(value);
  if (bytes) return { $bytes: [value.constructor.name, bytes.toString('base64')] };
  if (Array.isArray(value)) return value.map((item, i) => stable(item, `${path}[${i}]`, depth + 1));
  // Entries keep their order: two orders of one Map only cost a miss.
  if (value instanceof Map) return { $map: [...value].map(([key, item], i) => [stable(key, `${path}<key ${i}>`, depth + 1), stable(item, `${path}<value ${i}>`, depth + 1)]) };
  if (value instanceof Set) return { $set: [...value].map((item, i) => stable(item, `${path}<item ${i}>`, depth + 1)) };
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto !== Object.prototype && proto !== null) throw cannotKey(value, path, 'whose content a cache key cannot capture (give a plain value)');
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = stable((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
  return out;
}

function stable(value: unknown, path: string, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new CacheTagsError('E_INVALID_OPTION', `the query cannot be cached: its options nest deeper than ${MAX_DEPTH} levels at ${path.slice(0, 120)} (circular?)`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : { $n: String(value) };
  if (value === undefined) return { $u: 1 };
  if (typeof value === 'bigint') return { $b: value.toString() };
  if (typeof value === 'object') return stableObject(value, path, depth);
  throw cannotKey(value, path, 'which a cache key cannot capture');
}

/**
 * The cache key of a query described by `description` (a JSON-like value; `Date`, `bigint`,
 * `Buffer`, `RegExp`, `Map`, `Set`, typed arrays and `URL` allowed, keyed by their content):
 * `query:<type>:<id>:<hash>`.
 * @throws CacheTagsError `E_INVALID_OPTION` naming the path when the description holds a function
 * or symbol (a `Raw` condition built by a function) or an instance of another class: its result
 * cannot be keyed.
 */
export function queryCacheKey(type: string, id: string | undefined, description: unknown): string {
  const hash = createHash('sha256').update(JSON.stringify(stable(description, ''))).digest('base64url').slice(0, 32);
  return id === undefined ? `query:${type}:${hash}` : `query:${type}:${id}:${hash}`;
}

/**
 * A cached query to run: where its result is stored, what it depends on before it runs, and how
 * to learn the rest from its result.
 */
export interface CachedQueryRun<T> {
  cache: TagCache;
  key: string;
  /** Tags read before the query ({@link planQueryTags}). */
  tags: readonly string[];
  ttl: number | undefined;
  /** Runs the query itself. */
  run: () => Promise<T>;
  /**
   * The tags of the rows the result returns or loads (rule 1), learned once it is known: the
   * core's race judgement (docs/consistency.md) keeps the result out of the cache if one of them
   * was invalidated after the query started.
   */
  learn: (result: T) => readonly string[];
}

/**
 * Serves a query from the tag cache, running it on a miss (docs/query-cache.md): one
 * `TagCache.wrap`, so concurrent misses of one key run the query once and a result that a write
 * overtook is returned but not stored.
 */
export function runCachedQuery<T>(query: CachedQueryRun<T>): Promise<Awaited<T>> {
  return query.cache.wrap(query.key, async () => {
    const result = await query.run();
    const learned = query.learn(result);
    if (learned.length > 0) addCacheTags(...learned);
    return result;
  }, { tags: [...query.tags], ttl: query.ttl });
}
