import { Keyv, type KeyvStoreAdapter } from 'keyv';
import { CacheTagsError } from './errors.js';
import { KeyvDriver } from './keyv-driver.js';
import { MemoryDriver, MemoryStore } from './memory-store.js';
import { createRedisClusterStore, isClusterOption, type RedisClusterStoreOption } from './redis-cluster-store.js';
import type { NearCache } from './near-cache.js';
import { PLAIN_JSON, createRedisStore, isRedisUrl, type NearCacheRequest } from './redis-store.js';
import type { StoreDriver } from './store-driver.js';
import { describe } from './tracking-scope.js';

/** What the `store` option of a cache may be. */
export type StoreOption = Keyv | KeyvStoreAdapter | Map<unknown, unknown> | string | RedisClusterStoreOption;

/** The store a cache works on. */
export interface OpenedStore {
  /** The Keyv instance users get from `cache.store()`. */
  keyv: Keyv;
  driver: StoreDriver;
  /** Whether the cache created it, and so closes it. */
  owned: boolean;
  /** The near cache in front of it (`nearCache` option). */
  near?: NearCache;
}

/*
 * Recognised by shape, not `instanceof Keyv`: an application may hold a Keyv of the other module
 * format (ESM vs CommonJS), of another copy of the package, or of keyv 6. `getRaw` (keyv 5 and 6)
 * tells a Keyv from a store adapter, which has the other methods too (and, in keyv 6, a `store`).
 */
function isKeyv(value: unknown): value is Keyv {
  const v = value as Partial<Record<'get' | 'set' | 'delete' | 'getMany' | 'setMany' | 'getRaw' | 'on', unknown>> | null;
  return typeof v === 'object' && v !== null && 'store' in v && [v.get, v.set, v.delete, v.getMany, v.setMany, v.getRaw, v.on].every((method) => typeof method === 'function');
}

/**
 * The store a Keyv was given. keyv 5 holds it as `keyv.store`; keyv 6 wraps every store that is not
 * a keyv 6 adapter in one of its own (`KeyvBridgeAdapter`, `KeyvMemoryAdapter`), which holds it as
 * its `store`. A keyv 6 adapter of a package (`@keyv/redis` 6) has no `store` and is returned as is.
 */
export function heldStore(keyv: Keyv): unknown {
  const store = keyv.store as { store?: unknown; capabilities?: { expires?: unknown } } | undefined;
  return store?.capabilities?.expires === true && typeof store.store === 'object' && store.store !== null ? store.store : store;
}

/** Opens the store a `store` option names. Throws a {@link CacheTagsError} naming what is wrong with it. */
export function openStore(store: unknown, settings: { timeoutMs: number; maxEntries: number; maxTagVersions: number; nearCache: NearCacheRequest | undefined }): OpenedStore {
  if (isRedisUrl(store)) return { ...createRedisStore(store, settings.timeoutMs, settings.nearCache), owned: true };
  if (settings.nearCache) {
    // Only a single Redis publishes its invalidations in the script that writes them (docs/near-cache.md, "Limits").
    throw new CacheTagsError('E_INVALID_OPTION', `TagCache option nearCache needs a redis:// URL store; it is not supported with ${store === undefined ? 'the in-process store' : isClusterOption(store) ? 'a Redis Cluster (store: { cluster })' : 'a Keyv instance or adapter'}`);
  }
  if (store === undefined) {
    const memory = new MemoryStore(settings.maxEntries, settings.maxTagVersions);
    return { keyv: new Keyv({ store: memory, useKeyPrefix: false, serialize: undefined, deserialize: undefined }), driver: new MemoryDriver(memory), owned: true };
  }
  if (isClusterOption(store)) return createRedisClusterStore(store, settings.timeoutMs);
  if (isKeyv(store)) {
    // The Keyv of another cache's in-process store: share that store, with its ordering.
    const held = heldStore(store);
    const driver = held instanceof MemoryStore ? new MemoryDriver(held) : new KeyvDriver(store);
    return { keyv: store, driver, owned: false };
  }
  if (typeof store === 'object' && store !== null && typeof (store as Map<unknown, unknown>).get === 'function') {
    const keyv = new Keyv({ store: store as KeyvStoreAdapter, useKeyPrefix: false, ...PLAIN_JSON });
    return { keyv, driver: new KeyvDriver(keyv), owned: true };
  }
  throw new CacheTagsError('E_INVALID_OPTION', `TagCache option store must be a Keyv instance, a Keyv store adapter, a redis:// URL, { cluster: { rootNodes } } or { cluster: client }, got ${describe(store)}`);
}
