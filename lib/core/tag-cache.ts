import type { Keyv } from 'keyv';
import { unique, type CacheParts, type Outcome, type StoredEntry } from './cache-parts.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { compute, type ComputedEntry } from './computation.js';
import { computeOnce } from './cross-process-flight.js';
import { CacheTagsError } from './errors.js';
import { TypedEmitter, type TagCacheEventName, type TagCacheEvents } from './events.js';
import { Invalidator } from './invalidation.js';
import { KeyBuilder } from './keys.js';
import { levels } from './log.js';
import { isHit, lookup, type Miss } from './lookup.js';
import { assertDuration, resolveLock, resolveSettings, type EntryOptions, type LockSettings, type Settings, type TagCacheOptions } from './options.js';
import { recordNotStored, recordStored } from './outcomes.js';
import { PendingInvalidations } from './pending-invalidations.js';
import { RememberedTags } from './remembered-tags.js';
import { serializeFor } from './serializer.js';
import { SingleFlight, type Lead } from './single-flight.js';
import { CacheCounters, type TagCacheStats } from './stats.js';
import type { StoreDriver } from './store-driver.js';
import { StoreGateway } from './store-gateway.js';
import { openStore } from './store-selection.js';
import { Hold, TAG_HOLD_MS, type TagHold } from './tag-hold.js';
import { TagVersions } from './tag-versions.js';
import { anyHeld } from './tokens.js';
import { traced, tracing, type GetTraceContext, type InvalidateTraceContext, type WrapTraceContext } from './tracing.js';
import { assertTags, currentScope, describe } from './tracking-scope.js';

export type { CacheTagsLogger, EntryOptions, LockOptions, TagCacheOptions } from './options.js';

/**
 * Options of {@link TagCache.stats}.
 * @public
 */
export interface StatsOptions {
  /**
   * Zeroes the counters once read (in the same tick: no event is lost between the two), so that the
   * snapshot holds what happened since the previous reset. Leave it off when a metrics exporter
   * reads cumulative counters.
   * @default false
   */
  reset?: boolean;
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
  private readonly settings: Settings;
  private readonly parts: CacheParts;
  private readonly flights: SingleFlight;
  private readonly invalidator: Invalidator;
  private readonly driver: StoreDriver;
  private readonly keyv: Keyv;
  private readonly ownsStore: boolean;

  constructor(options: TagCacheOptions = {}) {
    const settings = resolveSettings(options);
    this.settings = settings;
    this.namespace = settings.namespace;
    const keys = new KeyBuilder(settings.namespace);
    const log = levels(options.logger);
    const nearCache = settings.nearCache && {
      settings: settings.nearCache,
      channel: keys.channel,
      onChange: (inStep: boolean) => {
        const near = `cache-tags: the near cache of namespace "${settings.namespace}"`;
        if (inStep) log.info(`${near} is in step with its invalidation channel: it serves`);
        else log.warn(`${near} lost its invalidation channel; hits go to Redis until it is back`);
      },
    };
    const opened = openStore(options.store, { timeoutMs: settings.timeoutMs, maxEntries: settings.maxEntries, maxTagVersions: settings.maxTagVersions, nearCache });
    this.keyv = opened.keyv;
    this.driver = opened.driver;
    this.ownsStore = opened.owned;
    if (settings.lock) assertLockable(opened.driver, 'TagCache option lock');
    const events = new TypedEmitter();
    const counters = new CacheCounters();
    const report = (operation: string, error: unknown): void => {
      counters.storeError(operation);
      log.warn(`cache-tags: store ${operation} failed in namespace "${this.namespace}"; serving from the source`, error);
      events.emit('error', { operation, error });
    };
    const recovered = (tags: readonly string[]): void => {
      log.info(`cache-tags: the pending invalidation of ${tags.length} tag(s) in namespace "${this.namespace}" is written`);
    };
    const pending = new PendingInvalidations((tags) => versions.invalidate(tags, { force: true }), settings.retryInitialMs, settings.retryMaxMs, recovered);
    const gateway = new StoreGateway(opened.driver, settings.timeoutMs, new CircuitBreaker(options.circuitBreaker), report, () => {
      log.info(`cache-tags: store of namespace "${this.namespace}" answers again`);
      void pending.flush();
    });
    const versions = new TagVersions(keys, gateway, settings.tagTtl, settings.clockSkewMs);
    this.parts = {
      owner: this,
      namespace: settings.namespace,
      keys,
      gateway,
      versions,
      near: opened.near,
      events,
      pending,
      remembered: new RememberedTags(settings.rememberedKeys),
      serializer: settings.serializer,
      counters,
      log,
      report,
    };
    this.flights = new SingleFlight(this.parts);
    this.invalidator = new Invalidator(this.parts, settings);
  }

  /**
   * What this cache counted since it was created (or last reset): hits, misses and values not
   * stored by reason, joined computations, invalidations, store errors, and the invalidations
   * pending now. Counting is always on and costs one integer increment per call; the snapshot is a
   * new plain object, built only here.
   * @public
   */
  stats(options: StatsOptions = {}): TagCacheStats {
    const snapshot = this.parts.counters.snapshot(this.parts.pending.size);
    if (options.reset) this.parts.counters.reset();
    return snapshot;
  }

  /**
   * Subscribes to an event; returns a function that unsubscribes.
   * @public
   */
  on<E extends TagCacheEventName>(event: E, listener: (payload: TagCacheEvents[E]) => void): () => void {
    return this.parts.events.on(event, listener);
  }

  /** Removes a listener added with {@link TagCache.on}. */
  off<E extends TagCacheEventName>(event: E, listener: (payload: TagCacheEvents[E]) => void): void {
    this.parts.events.off(event, listener);
  }

  /** The Keyv instance behind this cache. */
  store(): Promise<Keyv> {
    return Promise.resolve(this.keyv);
  }

  /**
   * Returns the cached value of `key` if it is still valid; otherwise runs `fn`, stores its result
   * under `options.tags` (and those `options.resultTags` derives from it) and returns it.
   * Concurrent calls for one key in this process share one run of `fn`. The versions of the tags are read before `fn` runs, so a value computed while one
   * of its tags is invalidated is returned to this caller but never served again.
   * @public
   */
  wrap<T>(key: string, fn: () => T | Promise<T>, options: EntryOptions = {}): Promise<Awaited<T>> {
    // Not `async`: its await would be one more promise step on every hit. Whatever throws here rejects, as from an async method.
    try {
      return this.wrapped(key, fn, options) as Promise<Awaited<T>>;
    } catch (error) {
      return Promise.reject(error); // eslint-disable-line @typescript-eslint/prefer-promise-reject-errors -- what the checks threw, as an async method would reject
    }
  }

  /** {@link TagCache.wrap}, which may throw. */
  private wrapped(key: string, fn: () => unknown, options: EntryOptions): Promise<unknown> {
    assertKey(key, 'wrap');
    if (typeof fn !== 'function') {
      throw new CacheTagsError('E_INVALID_OPTION', `TagCache.wrap("${key}"): the second argument must be a function, got ${describe(fn)}`);
    }
    const tags = entryTags(options, `TagCache.wrap("${key}")`);
    assertDuration(options.ttl, `TagCache.wrap("${key}"): ttl`);
    const { resultTags } = options;
    if (resultTags !== undefined && typeof resultTags !== 'function') {
      throw new CacheTagsError('E_INVALID_OPTION', `TagCache.wrap("${key}"): option resultTags must be a function of the value, got ${describe(resultTags)}`);
    }
    const ttl = options.ttl ?? this.settings.ttl;
    const lock = options.lock === undefined ? this.settings.lock : this.lockOf(options.lock, key);
    const entryKey = this.parts.keys.entry(key);
    const entry: ComputedEntry = { declared: tags, ttl, resultTags };
    if (traced(tracing.wrap)) return this.tracedWrap(key, entryKey, fn, entry, lock);
    const delivered = this.flights.run(entryKey, this.lead(key, entryKey, fn, entry, lock, undefined), this.delivered);
    // An in-process hit is answered without waiting.
    return delivered instanceof Promise ? delivered : Promise.resolve(delivered);
  }

  /** The lock settings of one `wrap` call's `lock` option, over the cache's. */
  private lockOf(option: unknown, key: string): LockSettings | undefined {
    const where = `TagCache.wrap("${key}"): option lock`;
    const lock = resolveLock(option, this.settings.lock, where);
    if (lock) assertLockable(this.driver, where);
    return lock;
  }

  /** The value of an outcome, its tags handed to the computation that is running. */
  private readonly delivered = (outcome: Outcome): unknown => {
    this.bubble(outcome);
    return outcome.value;
  };

  /**
   * The valid cached value of `key`, or `undefined`. Inside a cached computation, the entry's
   * tags become dependencies of that computation.
   * @public
   */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    assertKey(key, 'get');
    const entryKey = this.parts.keys.entry(key);
    if (traced(tracing.get)) {
      const context: GetTraceContext = { namespace: this.namespace, key };
      return tracing.get.tracePromise(async () => this.served(await lookup(this.parts, key, entryKey, [], false, same), context), context) as Promise<T | undefined>;
    }
    const looked = lookup(this.parts, key, entryKey, [], false, same);
    return this.served(looked instanceof Promise ? await looked : looked, undefined) as T | undefined;
  }

  /**
   * What a single flight of `wrap` runs: a lookup, then the source after a miss (under the
   * cross-process lock when `lock` is set and the store answered; the in-process store needs none).
   */
  private lead(key: string, entryKey: string, fn: () => unknown, entry: ComputedEntry, lock: LockSettings | undefined, trace: WrapTraceContext | undefined): Lead {
    return (onSourceStart) =>
      lookup(this.parts, key, entryKey, entry.declared, true, (found) => {
        if (found && isHit(found)) {
          this.parts.counters.hits++;
          if (trace) trace.outcome = 'hit';
          return found;
        }
        let source = fn;
        if (trace) {
          trace.outcome = 'miss';
          const tags = [...entry.declared];
          if (traced(tracing.compute)) source = () => tracing.compute.tracePromise(async () => await fn(), { namespace: this.namespace, key, tags });
        }
        const computeWith = (miss: Miss | undefined): Promise<Outcome> => compute(this.parts, key, entryKey, source, entry, miss, onSourceStart);
        if (!lock || !found || this.parts.gateway.local) return computeWith(found);
        return computeOnce(this.parts, key, entryKey, entry.declared, lock, found, computeWith);
      });
  }

  /** {@link TagCache.wrap} published on `cache-tags:wrap` (and its source on `cache-tags:compute`). */
  private tracedWrap(key: string, entryKey: string, fn: () => unknown, entry: ComputedEntry, lock: LockSettings | undefined): Promise<unknown> {
    const context: WrapTraceContext = { namespace: this.namespace, key, tags: [...entry.declared] };
    return tracing.wrap.tracePromise(async () => {
      return await this.flights.run(entryKey, this.lead(key, entryKey, fn, entry, lock, context), (outcome) => {
        // Neither a hit nor a miss of its own: it shared the run of a concurrent call.
        context.outcome ??= 'joined';
        return this.delivered(outcome);
      });
    }, context);
  }

  /** The value a lookup of `get` serves, counted and handed to the computation that is running. */
  private served(found: Outcome | Miss | undefined, trace: GetTraceContext | undefined): unknown {
    if (!found || !isHit(found)) {
      if (trace) trace.outcome = 'miss';
      return undefined;
    }
    this.parts.counters.hits++;
    if (trace) trace.outcome = 'hit';
    this.bubble(found);
    return found.value;
  }

  /**
   * Stores `value` under `key` with the current versions of `options.tags`. Unlike
   * {@link TagCache.wrap}, it cannot know when the value was read: use it for values that are
   * current now. Resolves `false` when the store did not take the write.
   * @public
   */
  async set(key: string, value: unknown, options: EntryOptions = {}): Promise<boolean> {
    assertKey(key, 'set');
    const tags = entryTags(options, `TagCache.set("${key}")`);
    assertDuration(options.ttl, `TagCache.set("${key}"): ttl`);
    const data = serializeFor(this.parts.serializer, value, `TagCache.set("${key}")`);
    const ttl = options.ttl ?? this.settings.ttl;
    if (!traced(tracing.set)) return this.stored(key, data, tags, ttl);
    return tracing.set.tracePromise(() => this.stored(key, data, tags, ttl), { namespace: this.namespace, key, tags });
  }

  /** {@link TagCache.set} once its value is serialized. */
  private async stored(key: string, data: unknown, tags: string[], ttl: number): Promise<boolean> {
    if (tags.some((tag) => this.parts.pending.has(tag))) {
      recordNotStored(this.parts, key, 'invalidation-pending');
      return false;
    }
    const versions = await this.parts.versions.capture(tags);
    if (!versions) {
      recordNotStored(this.parts, key, 'store-unavailable');
      return false;
    }
    if (anyHeld(versions.values())) {
      recordNotStored(this.parts, key, 'invalidation-pending');
      return false;
    }
    const entry: StoredEntry = { v: data, t: Object.fromEntries(versions), a: Date.now() };
    // Announced, unlike a computation's write: the entry it replaces may still be valid, and held by near caches.
    const ok = await this.parts.gateway.write([{ key: this.parts.keys.entry(key), value: entry, ttl: ttl || undefined }], this.parts.keys.channel);
    if (ok) {
      this.parts.remembered.forget(key);
      recordStored(this.parts, key, tags, ttl || undefined);
    }
    return ok;
  }

  /**
   * Removes the entry of `key`.
   * @public
   */
  async delete(key: string): Promise<boolean> {
    assertKey(key, 'delete');
    this.parts.remembered.forget(key);
    return this.parts.gateway.remove([this.parts.keys.entry(key)], this.parts.keys.channel);
  }

  /**
   * Invalidates every entry that carries any of `tags`: one store write, whatever the number of
   * entries. Resolves once the store acknowledged it. While the store does not answer it retries
   * for up to `invalidationTimeoutMs`, and this process serves no entry that carries the tags; past
   * that it reports at `error` level and keeps retrying (or rejects, with
   * `onInvalidationTimeout: "reject"`). `source` describes the write that caused it, for the
   * `invalidate` event.
   * @throws CacheTagsError `E_INVALIDATION_PENDING` only with `onInvalidationTimeout: "reject"`.
   * @public
   */
  async invalidateTags(tags: string[], source?: unknown): Promise<void> {
    assertTags(tags, 'TagCache.invalidateTags');
    await this.invalidated(tags, source, undefined);
  }

  /** {@link TagCache.invalidateTags}, done once `held` resolves `true` (see {@link Invalidator.invalidate}). */
  private async invalidated(tags: string[], source: unknown, held: Promise<boolean> | undefined): Promise<void> {
    if (!traced(tracing.invalidate)) {
      await this.invalidator.invalidate(tags, source, held);
      return;
    }
    const context: InvalidateTraceContext = { namespace: this.namespace, tags, source };
    await tracing.invalidate.tracePromise(async () => {
      context.acknowledged = false; // stays so when it rejects: only an unacknowledged invalidation does
      context.acknowledged = await this.invalidator.invalidate(tags, source, held);
    }, context);
  }

  /**
   * Holds `tags` ahead of a change that becomes visible elsewhere first, such as a database
   * commit: call it just before the change is made visible (the commit is sent), then
   * {@link TagHold.invalidate} once it is. The hold writes a *held* version of every tag, under
   * which no process serves or stores anything, so the change's end need not wait for the
   * invalidation's round trip: it overlaps the commit's. A held version that is never replaced
   * expires after 10 s (a missing version means "invalidated"). On a store that cannot hold (the
   * in-process store, Redis Cluster, other Keyv stores), or when the store did not acknowledge the
   * hold, {@link TagHold.invalidate} is {@link TagCache.invalidateTags}.
   * @public
   */
  holdTags(tags: string[]): TagHold {
    assertTags(tags, 'TagCache.holdTags');
    const list = unique(tags);
    const acknowledged = list.length > 0 ? this.parts.versions.hold(list, TAG_HOLD_MS) : undefined;
    return new Hold(acknowledged, (source, held) => this.invalidated(list, source, held));
  }

  /**
   * The current version token of each tag (`undefined` for a tag that has none, or when the store
   * does not answer).
   * @public
   */
  async getTagVersions(tags: string[]): Promise<Record<string, string | undefined>> {
    assertTags(tags, 'TagCache.getTagVersions');
    const versions = await this.parts.versions.read(tags);
    return Object.fromEntries(tags.map((tag) => [tag, versions?.get(tag)]));
  }

  /** How many tags wait for their invalidation to be written after store failures. */
  get pendingInvalidations(): number {
    return this.parts.pending.size;
  }

  /**
   * Tries to write the invalidations that failed earlier, now; resolves `true` when none is left.
   * @public
   */
  flushInvalidations(): Promise<boolean> {
    return this.parts.pending.flush();
  }

  /**
   * Waits for the invalidations that follow holds ({@link TagCache.holdTags}), writes pending
   * invalidations one last time, stops retrying, frees the locks of computations
   * that ended (`lock`), and disconnects the store if this
   * cache created it (from a URL or an adapter). A Keyv instance you passed in stays yours to close.
   * A closed cache never touches the store again: calls run their source and store nothing.
   * @public
   */
  async close(): Promise<void> {
    await this.invalidator.settled();
    if (this.parts.pending.size > 0) await this.parts.pending.flush();
    this.parts.pending.stop();
    await this.parts.gateway.drain();
    this.parts.gateway.close();
    if (!this.ownsStore) {
      this.driver.release?.();
      return;
    }
    try {
      await this.driver.close();
    } catch {
      // Nothing was connected, or it is already gone: either way nothing is left open.
    }
  }

  /** Hands the tags of a value to the computation that is running, if any. */
  private bubble(outcome: Outcome): void {
    const scope = currentScope();
    if (!scope) return;
    for (const tag of Object.keys(outcome.versions)) scope.learn(tag, outcome.versions[tag], this);
  }
}

const same = <T>(found: T): T => found;

/**
 * A lock other processes see needs a store that can take one (Redis); the in-process store needs
 * none, its own single flight is already one computation per key.
 */
function assertLockable(driver: StoreDriver, where: string): void {
  if (driver.local || driver.lock) return;
  throw new CacheTagsError('E_INVALID_OPTION', `${where} needs a store that can take a lock across processes: a redis:// URL or { cluster }, not a Keyv instance or adapter`);
}

function entryTags(options: EntryOptions, where: string): string[] {
  if (typeof options !== 'object' || options === null) {
    throw new CacheTagsError('E_INVALID_OPTION', `${where}: options must be an object, got ${describe(options)}`);
  }
  const tags = options.tags ?? [];
  assertTags(tags, where);
  return unique(tags);
}

function assertKey(key: unknown, method: string): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new CacheTagsError('E_INVALID_KEY', `TagCache.${method}: key must be a non-empty string, got ${describe(key)}`);
  }
}

/**
 * Same as `new TagCache(options)`.
 * @public
 */
export function createTagCache(options?: TagCacheOptions): TagCache {
  return new TagCache(options);
}
