import { Keyv, type KeyvStoreAdapter } from 'keyv';
import { BoundedMemoryStore } from './bounded-memory-store.js';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';
import { CacheTagsError } from './errors.js';
import { TypedEmitter, type TagCacheEventName, type TagCacheEvents } from './events.js';
import { KeyBuilder } from './keys.js';
import { PendingInvalidations } from './pending-invalidations.js';
import { PLAIN_JSON, createRedisKeyv, isRedisUrl } from './redis-store.js';
import { defaultSerializer, serializeFor, type Serializer } from './serializer.js';
import { StoreGateway, type StoreWrite } from './store-gateway.js';
import { newToken, tokenTime } from './tokens.js';
import { TrackingScope, assertTags, currentScope, describe, runInScope } from './tracking-scope.js';

/**
 * A logger cache-tags reports store trouble to; `console` fits.
 * @public
 */
export interface CacheTagsLogger {
  warn(message: string, ...meta: unknown[]): void;
  error?(message: string, ...meta: unknown[]): void;
  debug?(message: string, ...meta: unknown[]): void;
}

/**
 * Options of {@link TagCache}.
 * @public
 */
export interface TagCacheOptions {
  /**
   * Where entries and tag versions live: a `Keyv` instance, a Keyv store adapter (or a `Map`), or a
   * `redis://` / `rediss://` URL (needs `@keyv/redis`; the connection is set up to fail fast).
   * Default: an in-process memory store.
   */
  store?: Keyv | KeyvStoreAdapter | Map<unknown, unknown> | string;
  /** Separates applications or deploys that share a store. Default `"ct"`. */
  namespace?: string;
  /** Default entry time to live in ms; 0 means no expiry. Default one hour: the worst-case bound on staleness. */
  ttl?: number;
  /** Time to live of tag versions in ms; 0 (default) means no expiry. A lost version only causes misses. */
  tagTtl?: number;
  /**
   * Largest clock difference between processes that share the store, in ms. A tag learned during a
   * computation (nested call, `addCacheTags`, tracked load) whose version is younger than the
   * computation's start minus this margin keeps the value out of the cache. Default 1000 for a
   * store given in `store`, 0 for the in-process default store.
   */
  clockSkewMs?: number;
  /** How long one store call may take before the cache gives up on it, in ms. Default 1000. */
  timeoutMs?: number;
  /** Circuit breaker in front of the store. */
  circuitBreaker?: CircuitBreakerOptions;
  /** Backoff of the retries of invalidations that could not be written, in ms. Default 100 up to 5000. */
  retry?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Receives store failures and recoveries. Default: none (subscribe to the `error` event instead). */
  logger?: CacheTagsLogger;
  /** With the default in-process store: how many keys (entries and tag versions) it keeps, least recently used first out. Default 100000. */
  maxMemoryEntries?: number;
  /** Value serializer. Default {@link defaultSerializer}. */
  serializer?: Serializer;
  /** How many keys' learned tags are remembered so that their hits need one round trip. Default 10000. */
  rememberedKeys?: number;
}

/**
 * Options of one entry.
 * @public
 */
export interface EntryOptions {
  /** Tags the entry depends on: invalidating any of them makes it miss. */
  tags?: string[];
  /** Time to live in ms (0: no expiry). Default: the cache's `ttl`. */
  ttl?: number;
}

/** What is stored under an entry key. */
interface StoredEntry {
  /** The serialized value. */
  v: unknown;
  /** The tag versions the value was computed under. */
  t: Record<string, string>;
  /** When the computation started (ms since epoch). */
  a: number;
}

/** The result of one lookup or computation, as the callers of a single flight share it. */
interface Outcome {
  value: unknown;
  /** Tags of the value with the versions it was valid under (`undefined`: version unknown). */
  versions: Map<string, string | undefined>;
  /** Whether a later caller may reuse the value once the versions are seen to be still current. */
  reusable: boolean;
}

interface Flight {
  promise: Promise<Outcome>;
  verification?: Promise<boolean>;
}

const DEFAULT_TTL = 60 * 60 * 1000;

function isStoredEntry(value: unknown): value is StoredEntry {
  return typeof value === 'object' && value !== null && 't' in value && 'v' in value && typeof (value as StoredEntry).t === 'object';
}

function assertDuration(value: unknown, name: string): asserts value is number | undefined {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new CacheTagsError('E_INVALID_OPTION', `${name} must be a non-negative number of milliseconds, got ${describe(value)}`);
  }
}

function unique(tags: readonly string[]): string[] {
  return tags.length < 2 ? [...tags] : [...new Set(tags)];
}

/**
 * A cache whose entries carry tags. Invalidating a tag writes a fresh version token for it (one
 * store write, whatever the number of entries), and every entry stored under an older version of
 * that tag stops being served.
 *
 * @example
 * ```ts
 * const cache = new TagCache({ store: 'redis://127.0.0.1:6379' });
 * const photo = await cache.wrap(`photo:${id}`, () => repo.findOneBy({ id }), { tags: [`Photo_${id}`] });
 * await cache.invalidateTags([`Photo_${id}`]);
 * ```
 * @public
 */
export class TagCache {
  /** The namespace that prefixes every store key of this cache. */
  readonly namespace: string;
  private readonly keys: KeyBuilder;
  private readonly gateway: StoreGateway;
  private readonly events = new TypedEmitter();
  private readonly flights = new Map<string, Flight>();
  private readonly remembered = new Map<string, string[]>();
  private readonly pending: PendingInvalidations;
  private readonly serializer: Serializer;
  private readonly defaultTtl: number;
  private readonly tagTtl: number | undefined;
  private readonly clockSkewMs: number;
  private readonly rememberedLimit: number;
  private readonly logger: CacheTagsLogger | undefined;
  private keyv: Keyv | Promise<Keyv>;
  private readonly ownsStore: boolean;

  constructor(options: TagCacheOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new CacheTagsError('E_INVALID_OPTION', `TagCache options must be an object, got ${describe(options)}`);
    }
    // Only a shared store sees versions minted by other processes' clocks; the in-process default
    // store sees this process's clock alone.
    const { namespace = 'ct', ttl = DEFAULT_TTL, tagTtl, clockSkewMs = options.store === undefined ? 0 : 1000, timeoutMs = 1000 } = options;
    if (typeof namespace !== 'string') {
      throw new CacheTagsError('E_INVALID_OPTION', `TagCache option namespace must be a string, got ${describe(namespace)}`);
    }
    assertDuration(ttl, 'TagCache option ttl');
    assertDuration(tagTtl, 'TagCache option tagTtl');
    assertDuration(clockSkewMs, 'TagCache option clockSkewMs');
    assertDuration(timeoutMs, 'TagCache option timeoutMs');
    this.namespace = namespace;
    this.keys = new KeyBuilder(namespace);
    this.defaultTtl = ttl;
    this.tagTtl = tagTtl || undefined;
    this.clockSkewMs = clockSkewMs;
    this.serializer = options.serializer ?? defaultSerializer;
    this.rememberedLimit = options.rememberedKeys ?? 10_000;
    this.logger = options.logger;

    const store = options.store;
    this.ownsStore = store === undefined || isRedisUrl(store) || !(store instanceof Keyv);
    if (store === undefined) {
      // Kept as objects, no text: the serializer's decode builds fresh objects on every hit, so a
      // caller that mutates a returned value cannot change the stored one.
      this.keyv = new Keyv({ store: new BoundedMemoryStore(options.maxMemoryEntries ?? 100_000), useKeyPrefix: false, serialize: undefined, deserialize: undefined });
    } else if (isRedisUrl(store)) {
      this.keyv = createRedisKeyv(store, timeoutMs);
      // Surfaced through the gateway on first use; here it must not become an unhandled rejection.
      this.keyv.catch(() => undefined);
    } else if (store instanceof Keyv) {
      this.keyv = store;
    } else if (typeof store === 'object' && store !== null && typeof (store as Map<unknown, unknown>).get === 'function') {
      this.keyv = new Keyv({ store, useKeyPrefix: false, ...PLAIN_JSON });
    } else {
      throw new CacheTagsError('E_INVALID_OPTION', `TagCache option store must be a Keyv instance, a Keyv store adapter or a redis:// URL, got ${describe(store)}`);
    }
    const breaker = new CircuitBreaker(options.circuitBreaker);
    this.gateway = new StoreGateway(
      () => this.keyv,
      timeoutMs,
      breaker,
      (operation, error) => this.report(operation, error),
      () => {
        this.logger?.warn(`cache-tags: store of namespace "${this.namespace}" answers again`);
        void this.pending.flush();
      },
    );
    void Promise.resolve(this.keyv).then(
      (keyv) => {
        this.keyv = keyv; // from now on no call awaits the connection's promise
        keyv.on('error', () => this.gateway.storeReportedError());
      },
      () => undefined,
    );
    this.pending = new PendingInvalidations(
      (tags) => this.writeVersions(tags),
      options.retry?.initialDelayMs ?? 100,
      options.retry?.maxDelayMs ?? 5000,
    );
  }

  /**
   * Subscribes to an event; returns a function that unsubscribes.
   * @public
   */
  on<E extends TagCacheEventName>(event: E, listener: (payload: TagCacheEvents[E]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** Removes a listener added with {@link TagCache.on}. */
  off<E extends TagCacheEventName>(event: E, listener: (payload: TagCacheEvents[E]) => void): void {
    this.events.off(event, listener);
  }

  /** The Keyv instance behind this cache (resolved once a Redis URL has connected). */
  store(): Promise<Keyv> {
    return Promise.resolve(this.keyv);
  }

  /**
   * Returns the cached value of `key` if it is still valid; otherwise runs `fn`, stores its result
   * under `options.tags` and returns it. Concurrent calls for one key in this process share one
   * run of `fn`. The versions of the tags are read before `fn` runs, so a value computed while one
   * of its tags is invalidated is returned to this caller but never served again.
   * @public
   */
  async wrap<T>(key: string, fn: () => T | Promise<T>, options: EntryOptions = {}): Promise<Awaited<T>> {
    this.assertKey(key, 'wrap');
    if (typeof fn !== 'function') {
      throw new CacheTagsError('E_INVALID_OPTION', `TagCache.wrap("${key}"): the second argument must be a function, got ${describe(fn)}`);
    }
    const tags = this.entryTags(options, `TagCache.wrap("${key}")`);
    assertDuration(options.ttl, `TagCache.wrap("${key}"): ttl`);
    const outcome = await this.lookupOrCompute(key, fn, tags, options.ttl ?? this.defaultTtl, false);
    this.bubble(outcome.versions);
    return outcome.value as Awaited<T>;
  }

  /**
   * The valid cached value of `key`, or `undefined`. Inside a cached computation, the entry's
   * tags become dependencies of that computation.
   * @public
   */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    this.assertKey(key, 'get');
    const hit = await this.lookup(key, this.keys.entry(key), []);
    if (!hit) return undefined;
    this.bubble(hit.versions);
    return hit.value as T;
  }

  /**
   * Stores `value` under `key` with the current versions of `options.tags`. Unlike
   * {@link TagCache.wrap}, it cannot know when the value was read: use it for values that are
   * current now. Resolves `false` when the store did not take the write.
   * @public
   */
  async set(key: string, value: unknown, options: EntryOptions = {}): Promise<boolean> {
    this.assertKey(key, 'set');
    const tags = this.entryTags(options, `TagCache.set("${key}")`);
    assertDuration(options.ttl, `TagCache.set("${key}"): ttl`);
    const data = serializeFor(this.serializer, value, `TagCache.set("${key}")`);
    const versions = await this.readVersions(tags);
    if (!versions) return false;
    const minted = this.mintMissing(tags, versions);
    const entry: StoredEntry = { v: data, t: Object.fromEntries(versions), a: Date.now() };
    const ttl = options.ttl ?? this.defaultTtl;
    const ok = await this.gateway.setMany([...minted, { key: this.keys.entry(key), value: entry, ttl: ttl || undefined }]);
    if (ok) this.events.emit('set', { key, tags, ttl: ttl || undefined });
    return ok;
  }

  /**
   * Removes the entry of `key`.
   * @public
   */
  async delete(key: string): Promise<boolean> {
    this.assertKey(key, 'delete');
    this.remembered.delete(key);
    return this.gateway.deleteMany([this.keys.entry(key)]);
  }

  /**
   * Invalidates every entry that carries any of `tags`: one store write, whatever the number of
   * entries. Never throws for a store failure: an invalidation that cannot be written is retried
   * until it is, and meanwhile this process serves no entry that carries the tag.
   * `source` describes the write that caused it, for the `invalidate` event.
   * @public
   */
  async invalidateTags(tags: string[], source?: unknown): Promise<void> {
    assertTags(tags, 'TagCache.invalidateTags');
    const list = unique(tags);
    if (list.length === 0) return;
    const written = await this.writeVersions(list);
    if (written) this.pending.settled(list);
    else this.pending.add(list);
    this.events.emit('invalidate', { tags: list, source, deferred: !written });
  }

  /**
   * The current version token of each tag (`undefined` for a tag that has none, or when the store
   * does not answer).
   * @public
   */
  async getTagVersions(tags: string[]): Promise<Record<string, string | undefined>> {
    assertTags(tags, 'TagCache.getTagVersions');
    const versions = await this.readVersions(tags);
    return Object.fromEntries(tags.map((tag) => [tag, versions?.get(tag)]));
  }

  /** How many invalidations are waiting to be written after store failures. */
  get pendingInvalidations(): number {
    return this.pending.size;
  }

  /**
   * Tries to write the invalidations that failed earlier, now; resolves `true` when none is left.
   * @public
   */
  flushInvalidations(): Promise<boolean> {
    return this.pending.flush();
  }

  /**
   * Writes pending invalidations one last time, stops retrying, and disconnects the store if this
   * cache created it (from a URL or an adapter). A Keyv instance you passed in stays yours to close.
   * A closed cache never touches the store again: calls run their source and store nothing.
   * @public
   */
  async close(): Promise<void> {
    if (this.pending.size > 0) await this.pending.flush();
    this.pending.stop();
    this.gateway.close();
    if (!this.ownsStore) return;
    try {
      const keyv = await this.keyv;
      await keyv.disconnect();
    } catch {
      // Nothing was connected, or it is already gone: either way nothing is left open.
    }
  }

  // ---------------------------------------------------------------------------------------------

  private lookupOrCompute(key: string, fn: () => unknown, tags: string[], ttl: number, retried: boolean): Promise<Outcome> {
    const entryKey = this.keys.entry(key);
    const flight = this.flights.get(entryKey);
    if (flight) return this.follow(flight, key, fn, tags, ttl, retried);
    const promise = this.lead(key, entryKey, fn, tags, ttl);
    this.flights.set(entryKey, { promise });
    return promise;
  }

  private async lead(key: string, entryKey: string, fn: () => unknown, tags: string[], ttl: number): Promise<Outcome> {
    try {
      const versions = new Map<string, string>();
      const hit = await this.lookup(key, entryKey, tags, versions);
      if (hit) return hit;
      return await this.compute(key, entryKey, fn, tags, ttl, hit === null ? undefined : versions);
    } finally {
      // Removed before the promise settles, so that no caller can join a flight that has finished.
      this.flights.delete(entryKey);
    }
  }

  /**
   * A caller that joined a flight started before it arrived. The flight's value may predate a write
   * that returned before this caller came, so it is reused only if its versions are still current.
   */
  private async follow(flight: Flight, key: string, fn: () => unknown, tags: string[], ttl: number, retried: boolean): Promise<Outcome> {
    const outcome = await flight.promise;
    if (retried) return outcome;
    if (outcome.reusable) {
      flight.verification ??= this.stillCurrent(outcome.versions);
      if (await flight.verification) return outcome;
    }
    return this.lookupOrCompute(key, fn, tags, ttl, true);
  }

  private async stillCurrent(versions: Map<string, string | undefined>): Promise<boolean> {
    const tags = [...versions.keys()];
    if (tags.length === 0) return true;
    const current = await this.readVersions(tags);
    // A store that does not answer cannot tell; the value is as fresh as a source read now would be.
    if (!current) return true;
    return tags.every((tag) => versions.get(tag) === undefined || current.get(tag) === versions.get(tag));
  }

  /**
   * One round trip for the entry and the versions of its declared and remembered tags. Resolves the
   * hit, `undefined` for a miss (with `versions` filled for the declared tags), or `null` when the
   * store did not answer.
   */
  private async lookup(key: string, entryKey: string, declared: string[], versions = new Map<string, string>()): Promise<Outcome | undefined | null> {
    const remembered = this.remembered.get(key);
    const tags = remembered ? unique([...declared, ...remembered]) : declared;
    const rows = await this.gateway.getMany([entryKey, ...tags.map((tag) => this.keys.tag(tag))]);
    if (!rows) {
      this.events.emit('miss', { key, reason: 'store-unavailable' });
      return null;
    }
    tags.forEach((tag, i) => {
      const token = rows[i + 1];
      if (typeof token === 'string') versions.set(tag, token);
    });
    const entry = rows[0];
    if (!isStoredEntry(entry)) {
      this.events.emit('miss', { key, reason: 'absent' });
      return undefined;
    }
    const entryTags = Object.keys(entry.t);
    const unread = entryTags.filter((tag) => !tags.includes(tag));
    if (unread.length > 0) {
      // Tags learned by the computation that stored this entry: one more trip now, none next time.
      const more = await this.readVersions(unread);
      if (!more) return null;
      for (const [tag, token] of more) versions.set(tag, token);
    }
    this.remember(key, entryTags, declared);
    const valid =
      declared.every((tag) => tag in entry.t) &&
      entryTags.every((tag) => versions.get(tag) === entry.t[tag] && !this.pending.has(tag));
    if (!valid) {
      this.events.emit('miss', { key, reason: 'invalidated' });
      return undefined;
    }
    let value: unknown;
    try {
      value = this.serializer.deserialize(entry.v);
    } catch (error) {
      this.report('deserialize', error);
      this.events.emit('miss', { key, reason: 'undecodable' });
      return undefined;
    }
    if (this.events.has('hit')) this.events.emit('hit', { key, tags: entryTags });
    return { value, versions: new Map(Object.entries(entry.t)), reusable: true };
  }

  private async compute(
    key: string,
    entryKey: string,
    fn: () => unknown,
    declared: string[],
    ttl: number,
    versions: Map<string, string> | undefined,
  ): Promise<Outcome> {
    let storeAnswered = versions !== undefined;
    const captured = versions ?? new Map<string, string>();
    if (storeAnswered) {
      // A version is written before the source is read, never after: writing one after could
      // overwrite an invalidation that happened during the computation.
      const minted = this.mintMissing(declared, captured);
      if (minted.length > 0) storeAnswered = await this.gateway.setMany(minted);
    }
    const scope = new TrackingScope(this, storeAnswered ? captured : new Map());
    const startedAt = Date.now();
    const value = await runInScope(scope, fn);
    const data = serializeFor(this.serializer, value, `cache key "${key}"`);

    const learnedTags = [...scope.learned.keys()];
    if (storeAnswered && learnedTags.some((tag) => scope.learned.get(tag) === undefined)) {
      const unknown = learnedTags.filter((tag) => scope.learned.get(tag) === undefined);
      const read = await this.readVersions(unknown);
      if (read) {
        const minted = this.mintMissing(unknown, read);
        if (minted.length > 0 && !(await this.gateway.setMany(minted))) storeAnswered = false;
        for (const [tag, token] of read) scope.learned.set(tag, token);
      } else {
        storeAnswered = false;
      }
    }

    const all = new Map<string, string | undefined>(storeAnswered ? scope.declared : declared.map((tag) => [tag, undefined]));
    for (const [tag, token] of scope.learned) all.set(tag, storeAnswered ? token : undefined);

    const reason = this.unstorableReason(scope, all, startedAt, storeAnswered);
    if (reason) {
      this.events.emit('stale', { key, reason });
      return { value, versions: all, reusable: reason === 'store-unavailable' };
    }
    const entry: StoredEntry = { v: data, t: Object.fromEntries(all) as Record<string, string>, a: startedAt };
    if (await this.gateway.setMany([{ key: entryKey, value: entry, ttl: ttl || undefined }])) {
      this.remember(key, [...all.keys()], declared);
      this.events.emit('set', { key, tags: [...all.keys()], ttl: ttl || undefined });
    }
    return { value, versions: all, reusable: true };
  }

  private unstorableReason(
    scope: TrackingScope,
    all: Map<string, string | undefined>,
    startedAt: number,
    storeAnswered: boolean,
  ): TagCacheEvents['stale']['reason'] | undefined {
    if (!storeAnswered) return 'store-unavailable';
    if (scope.mixedVersions) return 'mixed-versions';
    for (const token of scope.learned.values()) {
      // A tag learned late may have been invalidated after the computation read the data it covers.
      const minted = token === undefined ? undefined : tokenTime(token);
      if (minted === undefined || minted >= startedAt - this.clockSkewMs) return 'invalidated-during-computation';
    }
    for (const tag of all.keys()) if (this.pending.has(tag)) return 'invalidation-pending';
    return undefined;
  }

  /** Fresh versions for the tags in `tags` that `versions` lacks, added to `versions`. */
  private mintMissing(tags: string[], versions: Map<string, string>): StoreWrite[] {
    const writes: StoreWrite[] = [];
    const now = Date.now();
    for (const tag of tags) {
      if (versions.has(tag)) continue;
      const token = newToken(now);
      versions.set(tag, token);
      writes.push({ key: this.keys.tag(tag), value: token, ttl: this.tagTtl });
    }
    return writes;
  }

  private async readVersions(tags: string[]): Promise<Map<string, string> | undefined> {
    const versions = new Map<string, string>();
    if (tags.length === 0) return versions;
    const rows = await this.gateway.getMany(tags.map((tag) => this.keys.tag(tag)));
    if (!rows) return undefined;
    tags.forEach((tag, i) => {
      const token = rows[i];
      if (typeof token === 'string') versions.set(tag, token);
    });
    return versions;
  }

  private writeVersions(tags: string[]): Promise<boolean> {
    const now = Date.now();
    return this.gateway.setMany(tags.map((tag) => ({ key: this.keys.tag(tag), value: newToken(now), ttl: this.tagTtl })));
  }

  /** Remembers the tags of `key` beyond the declared ones, so that its next hit is one round trip. */
  private remember(key: string, tags: string[], declared: string[]): void {
    const extra = tags.length === declared.length ? [] : tags.filter((tag) => !declared.includes(tag));
    const known = this.remembered.get(key);
    if (extra.length === 0) {
      if (known) this.remembered.delete(key);
      return;
    }
    if (known && known.length === extra.length && extra.every((tag) => known.includes(tag))) return;
    this.remembered.delete(key);
    this.remembered.set(key, extra);
    if (this.remembered.size > this.rememberedLimit) {
      this.remembered.delete(this.remembered.keys().next().value as string);
    }
  }

  private bubble(versions: Map<string, string | undefined>): void {
    const scope = currentScope();
    if (!scope) return;
    for (const [tag, token] of versions) scope.learn(tag, token, this);
  }

  private entryTags(options: EntryOptions, where: string): string[] {
    if (typeof options !== 'object' || options === null) {
      throw new CacheTagsError('E_INVALID_OPTION', `${where}: options must be an object, got ${describe(options)}`);
    }
    const tags = options.tags ?? [];
    assertTags(tags, where);
    return unique(tags);
  }

  private assertKey(key: unknown, method: string): asserts key is string {
    if (typeof key !== 'string' || key.length === 0) {
      throw new CacheTagsError('E_INVALID_KEY', `TagCache.${method}: key must be a non-empty string, got ${describe(key)}`);
    }
  }

  private report(operation: string, error: unknown): void {
    this.logger?.warn(`cache-tags: store ${operation} failed in namespace "${this.namespace}"; serving from the source`, error);
    this.events.emit('error', { operation, error });
  }
}

/**
 * Same as `new TagCache(options)`.
 * @public
 */
export function createTagCache(options?: TagCacheOptions): TagCache {
  return new TagCache(options);
}
