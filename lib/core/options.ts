import type { Keyv, KeyvStoreAdapter } from 'keyv';
import type { CircuitBreakerOptions } from './circuit-breaker.js';
import type { RedisClusterStoreOption } from './redis-cluster-store.js';
import { CacheTagsError } from './errors.js';
import type { NearCacheSettings } from './near-cache.js';
import { defaultSerializer, type Serializer } from './serializer.js';
import { describe } from './tracking-scope.js';

/**
 * A logger cache-tags reports to; `console` fits. Each level is used for one kind of line:
 * - `error`: an invalidation the store did not acknowledge in time, an ORM tag function that threw
 *   (falls back to `warn` when absent);
 * - `warn`: a store failure the cache worked around (served from the source), a near cache that
 *   lost its invalidation channel;
 * - `info`: a recovery: the store answering again after failures, a pending invalidation written
 *   by a retry, a near cache in step with its channel (dropped when absent);
 * - `debug`: why a computed value was not stored (dropped when absent).
 * @public
 */
export interface CacheTagsLogger {
  warn(message: string, ...meta: unknown[]): void;
  error?(message: string, ...meta: unknown[]): void;
  info?(message: string, ...meta: unknown[]): void;
  debug?(message: string, ...meta: unknown[]): void;
}

/**
 * The cross-process single flight of a computation (`lock`): one process computes a missing entry
 * while the others that miss it wait for its value (docs/consistency.md, "Single flight across
 * processes").
 * @public
 */
export interface LockOptions {
  /**
   * How long a caller waits, in ms, for the process that holds the lock to store the value. Past
   * it, the caller computes by itself (never fails the request).
   * @default 3000
   */
  waitMs?: number;
  /**
   * How long the lock is held at most, in ms: the lock of a process that crashed frees itself
   * after this. A computation that takes longer loses the lock to another process, which then
   * computes too (a second computation, never a stale value); keep it above the slowest source.
   * @default 10000
   */
  ttlMs?: number;
}

/**
 * Options of {@link TagCache}.
 * @public
 */
export interface TagCacheOptions {
  /**
   * Where entries and tag versions live: a `Keyv` instance, a Keyv store adapter (or a `Map`), or a
   * `redis://` / `rediss://` URL (needs `@keyv/redis`, loaded at construction; the connection is
   * set up to fail fast). The in-process store and Redis through a URL order invalidations, so a
   * tag learned during a computation is judged exactly; any other store falls back to `clockSkewMs`.
   * A Redis Cluster: `{ cluster: { rootNodes: ['redis://host:port'] } }`, `rediss://` for TLS, node-redis
   * options for every node in `defaults` (ordered too; docs/cluster.md).
   * @default an in-process memory store
   */
  store?: Keyv | KeyvStoreAdapter | Map<unknown, unknown> | string | RedisClusterStoreOption;
  /**
   * Separates applications or deploys that share a store.
   * @default "ct"
   */
  namespace?: string;
  /**
   * Default entry time to live in ms; 0 means no expiry. The worst-case bound on staleness when an
   * invalidation cannot be written at all.
   * @default 3600000 (one hour)
   */
  ttl?: number;
  /**
   * Time to live of tag versions in ms; 0 means no expiry. A version that expires only makes its
   * entries miss (a missing version means "invalidated"), so it is safe at any value; keep it longer
   * than your longest entry TTL for the hit rate.
   * @default the larger of twice `ttl` and one day
   */
  tagTtl?: number;
  /**
   * Only for a store that cannot order invalidations (a Keyv instance or adapter you pass): the
   * largest clock difference between processes that share it, in ms. A tag learned during a
   * computation whose version is younger than the computation's start minus this margin keeps the
   * value out of the cache. Ignored by the in-process store and by a `redis://` store.
   * @default 1000
   */
  clockSkewMs?: number;
  /**
   * How long one store call may take before the cache gives up on it and serves from the source, in ms.
   * @default 1000
   */
  timeoutMs?: number;
  /**
   * How long `invalidateTags` (and so an ORM write) waits, retrying, for the store to acknowledge an
   * invalidation, in ms. Past it, see `onInvalidationTimeout`.
   * @default 3000
   */
  invalidationTimeoutMs?: number;
  /**
   * What an invalidation not acknowledged within `invalidationTimeoutMs` does. `"report"`: resolve,
   * report at `error` level (logger and `error` event) which tags are pending and the worst-case
   * staleness, and keep retrying. `"reject"`: the same, and the promise rejects with a
   * `CacheTagsError` `E_INVALIDATION_PENDING` naming the tags (for an ORM write: after its commit).
   * @default "report"
   */
  onInvalidationTimeout?: 'report' | 'reject';
  /** Circuit breaker in front of the store. */
  circuitBreaker?: CircuitBreakerOptions;
  /**
   * Backoff of the retries of invalidations, in ms: within the bounded wait, and after it until written.
   * @default { initialDelayMs: 100, maxDelayMs: 5000 }
   */
  retry?: { initialDelayMs?: number; maxDelayMs?: number };
  /**
   * Receives store failures, recoveries and (at `debug`) why values were not stored.
   * @default none (subscribe to the `error` event instead)
   */
  logger?: CacheTagsLogger;
  /**
   * With the default in-process store: how many entries it keeps, least recently used first out.
   * @default 100000
   */
  maxMemoryEntries?: number;
  /**
   * With the default in-process store: how many tag versions it keeps, separately from the entries,
   * so that a write invalidating many tags never pushes the entries out.
   * @default 100000
   */
  maxMemoryTagVersions?: number;
  /**
   * The default of every `wrap` (and `@Cached` method) of this cache: `true` or {@link LockOptions}
   * turns the cross-process single flight on, for caches whose sources are expensive. It costs a
   * miss one more store round trip (taking the lock) and one in the background (freeing it); a hit
   * costs nothing. Needs a `redis://` or `{ cluster }` store; on the in-process store it changes
   * nothing (the single flight of the process is already all of it); with a Keyv instance or adapter
   * you pass, the constructor throws `E_INVALID_OPTION`, since such a store cannot take a lock.
   * @default false
   */
  lock?: boolean | LockOptions;
  /**
   * Value serializer.
   * @default defaultSerializer
   */
  serializer?: Serializer;
  /**
   * How many keys' learned tags are remembered so that their hits need one round trip.
   * @default 10000
   */
  rememberedKeys?: number;
  /**
   * An in-process tier in front of Redis: a hit whose entry and tag versions are held here is
   * served without a round trip. Invalidations reach it through Redis pub/sub (one more connection
   * per cache); it serves only while that channel has proven, less than `maxLagMs` ago, that it
   * delivered every invalidation, and falls back to Redis otherwise. So another process serves an
   * entry invalidated by a write at most `maxLagMs` after that write returned (docs/near-cache.md).
   * `true` takes the defaults. Needs a `redis://` URL `store` (not a cluster, a Keyv instance or the
   * in-process store).
   * @default off
   */
  nearCache?: boolean | NearCacheOptions;
}

/**
 * Options of the near cache ({@link TagCacheOptions.nearCache}).
 * @public
 */
export interface NearCacheOptions {
  /**
   * How many entries it holds (and, separately, how many tag versions), least recently used first out.
   * @default 10000
   */
  maxEntries?: number;
  /**
   * The longest time, in ms, after a write returned during which another process may still serve
   * the old value from its near cache. The channel is checked four times per `maxLagMs`; when it
   * cannot prove itself within `maxLagMs` (down, slow, or this event loop too busy), hits go to Redis.
   * @default 100
   */
  maxLagMs?: number;
}

/**
 * Options of one entry.
 * @public
 */
export interface EntryOptions {
  /** Tags the entry depends on: invalidating any of them makes it miss. */
  tags?: string[];
  /**
   * Only for `wrap`: tags derived from the computed value, for ids known only once it is there
   * (`(photos) => photos.map((p) => `Photo_${p.id}`)`). They are added before the value is stored
   * and judged like every tag learned during a computation: a write that invalidated one of them
   * after the computation began keeps the value out of the cache. A function that throws (or
   * returns anything but a list of non-empty strings) leaves the value returned to its caller but
   * not stored, and is reported to the logger at `error` level.
   * @default none
   */
  resultTags?: (value: any) => readonly string[];
  /**
   * Time to live in ms (0: no expiry).
   * @default the cache's `ttl`
   */
  ttl?: number;
  /**
   * Only for `wrap`: the cross-process single flight of this entry (see {@link LockOptions}):
   * `true`, its options (each one not given is the cache's, then the default), or `false` to turn
   * a cache's default off for this entry.
   * @default the cache's `lock`
   */
  lock?: boolean | LockOptions;
}

/** A lock's settings, checked and complete. */
export interface LockSettings {
  waitMs: number;
  ttlMs: number;
}

const LOCK_DEFAULTS: LockSettings = { waitMs: 3000, ttlMs: 10_000 };

/**
 * The lock settings of a `lock` option over those it defaults to (`undefined`: no lock). Throws a
 * {@link CacheTagsError} naming `where` for anything but a boolean or {@link LockOptions}.
 */
export function resolveLock(option: unknown, fallback: LockSettings | undefined, where: string): LockSettings | undefined {
  if (option === undefined) return fallback;
  if (option === false) return undefined;
  if (option === true) return fallback ?? LOCK_DEFAULTS;
  if (typeof option !== 'object' || option === null) {
    throw new CacheTagsError('E_INVALID_OPTION', `${where} must be a boolean or { waitMs, ttlMs }, got ${describe(option)}`);
  }
  const { waitMs, ttlMs, ...rest } = option as LockOptions;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw new CacheTagsError('E_INVALID_OPTION', `${where}: unknown option ${unknown} (a lock takes waitMs and ttlMs)`);
  assertDuration(waitMs, `${where}.waitMs`);
  assertDuration(ttlMs, `${where}.ttlMs`);
  if (ttlMs !== undefined && (ttlMs < 1 || !Number.isInteger(ttlMs))) throw new CacheTagsError('E_INVALID_OPTION', `${where}.ttlMs must be a whole number of milliseconds of at least 1, got ${ttlMs}`);
  const base = fallback ?? LOCK_DEFAULTS;
  return { waitMs: waitMs ?? base.waitMs, ttlMs: ttlMs ?? base.ttlMs };
}

/** The options of a cache, checked and with their defaults. */
export interface Settings {
  namespace: string;
  ttl: number;
  tagTtl: number | undefined;
  clockSkewMs: number;
  timeoutMs: number;
  invalidationTimeoutMs: number;
  rejectOnInvalidationTimeout: boolean;
  retryInitialMs: number;
  retryMaxMs: number;
  maxEntries: number;
  maxTagVersions: number;
  serializer: Serializer;
  rememberedKeys: number;
  /** The cache's default lock; `undefined`: none. */
  lock: LockSettings | undefined;
  /** `undefined`: no near cache. */
  nearCache: NearCacheSettings | undefined;
}

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

/** Throws a clear error unless `value` is a non-negative number of milliseconds (or absent). */
export function assertDuration(value: unknown, name: string): asserts value is number | undefined {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new CacheTagsError('E_INVALID_OPTION', `${name} must be a non-negative number of milliseconds, got ${describe(value)}`);
  }
}

function count(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new CacheTagsError('E_INVALID_OPTION', `TagCache option ${name} must be a positive integer, got ${describe(value)}`);
  }
  return value;
}

/** Checks the options of a cache, naming the first bad one, and fills in the defaults. */
export function resolveSettings(options: TagCacheOptions): Settings {
  if (typeof options !== 'object' || options === null) {
    throw new CacheTagsError('E_INVALID_OPTION', `TagCache options must be an object, got ${describe(options)}`);
  }
  const { namespace = 'ct', ttl = HOUR, tagTtl, clockSkewMs = 1000, timeoutMs = 1000, invalidationTimeoutMs = 3000, onInvalidationTimeout = 'report' } = options;
  if (typeof namespace !== 'string') {
    throw new CacheTagsError('E_INVALID_OPTION', `TagCache option namespace must be a string, got ${describe(namespace)}`);
  }
  for (const [name, value] of Object.entries({ ttl, tagTtl, clockSkewMs, timeoutMs, invalidationTimeoutMs })) assertDuration(value, `TagCache option ${name}`);
  assertDuration(options.retry?.initialDelayMs, 'TagCache option retry.initialDelayMs');
  assertDuration(options.retry?.maxDelayMs, 'TagCache option retry.maxDelayMs');
  if (onInvalidationTimeout !== 'report' && onInvalidationTimeout !== 'reject') {
    throw new CacheTagsError('E_INVALID_OPTION', `TagCache option onInvalidationTimeout must be "report" or "reject", got ${describe(onInvalidationTimeout)}`);
  }
  return {
    namespace,
    ttl,
    tagTtl: (tagTtl ?? Math.max(2 * ttl, DAY)) || undefined,
    clockSkewMs,
    timeoutMs,
    invalidationTimeoutMs,
    rejectOnInvalidationTimeout: onInvalidationTimeout === 'reject',
    retryInitialMs: options.retry?.initialDelayMs ?? 100,
    retryMaxMs: options.retry?.maxDelayMs ?? 5000,
    maxEntries: count(options.maxMemoryEntries, 'maxMemoryEntries', 100_000),
    maxTagVersions: count(options.maxMemoryTagVersions, 'maxMemoryTagVersions', 100_000),
    serializer: options.serializer ?? defaultSerializer,
    rememberedKeys: count(options.rememberedKeys, 'rememberedKeys', 10_000),
    lock: resolveLock(options.lock, undefined, 'TagCache option lock'),
    nearCache: nearCacheSettings(options.nearCache),
  };
}

function nearCacheSettings(option: unknown): NearCacheSettings | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return { maxEntries: 10_000, maxLagMs: 100 };
  if (typeof option !== 'object' || option === null) {
    throw new CacheTagsError('E_INVALID_OPTION', `TagCache option nearCache must be a boolean or { maxEntries?, maxLagMs? }, got ${describe(option)}`);
  }
  const { maxEntries, maxLagMs = 100 } = option as NearCacheOptions;
  assertDuration(maxLagMs, 'TagCache option nearCache.maxLagMs');
  if (maxLagMs === 0) throw new CacheTagsError('E_INVALID_OPTION', 'TagCache option nearCache.maxLagMs must be more than 0 (with 0 it could never serve: leave nearCache off)');
  return { maxEntries: count(maxEntries, 'nearCache.maxEntries', 10_000), maxLagMs };
}
