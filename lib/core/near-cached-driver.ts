import { InvalidationChannel, type ChannelClient } from './invalidation-channel.js';
import { NearCache } from './near-cache.js';
import type { NearCacheRequest, RedisDriver } from './redis-store.js';
import { decodeRows, type Minted, type StoreDriver, type StoreWrite } from './store-driver.js';

/**
 * The Redis driver with a {@link NearCache} kept beside it: every read's rows fill it, and every
 * write of this process drops what it changes from it before the write returns (the near hit
 * itself is the lookup's: lib/core/lookup.ts). Other processes learn of invalidations through the
 * {@link InvalidationChannel}.
 */
export class NearCachedDriver implements StoreDriver {
  readonly local = false;
  readonly ordered = true;

  constructor(
    private readonly redis: RedisDriver,
    readonly near: NearCache,
    private readonly channel: InvalidationChannel,
  ) {}

  read(keys: readonly string[]): Promise<unknown[]> {
    const mark = this.near.mark();
    return this.redis.readRaw(keys).then((rows) => {
      this.near.remember(keys, rows, mark);
      return decodeRows(rows);
    });
  }

  async write(writes: readonly StoreWrite[], channel?: string): Promise<void> {
    try {
      await this.redis.write(writes, channel);
    } finally {
      this.near.dropEntries(writes.map((write) => write.key));
    }
  }

  async remove(keys: readonly string[], channel?: string): Promise<void> {
    try {
      await this.redis.remove(keys, channel);
    } finally {
      this.near.dropEntries(keys);
    }
  }

  /*
   * Forgotten once Redis answered, before the invalidation returns: a read that began earlier may
   * have brought the old versions back meanwhile; one that lands later cannot (NearCache.remember).
   * While it is in flight, the pending invalidation keeps this process from serving the tags.
   */
  async invalidate(sequenceKey: string, tagKeys: readonly string[], ttl: number | undefined): Promise<void> {
    try {
      await this.redis.invalidate(sequenceKey, tagKeys, ttl);
    } finally {
      this.near.forgetTags(tagKeys);
    }
  }

  /** As {@link NearCachedDriver.invalidate}. */
  async hold(sequenceKey: string, tagKeys: readonly string[], holdMs: number): Promise<void> {
    try {
      await this.redis.hold(sequenceKey, tagKeys, holdMs);
    } finally {
      this.near.forgetTags(tagKeys);
    }
  }

  mint(sequenceKey: string, tagKeys: readonly string[], ttl: number | undefined): Promise<Minted> {
    return this.redis.mint(sequenceKey, tagKeys, ttl);
  }

  lock(key: string, token: string, ttlMs: number): Promise<boolean> {
    return this.redis.lock(key, token, ttlMs);
  }

  unlock(key: string, token: string): Promise<void> {
    return this.redis.unlock(key, token);
  }

  ready(): Promise<void> | undefined {
    return this.redis.ready();
  }

  async close(): Promise<void> {
    await this.channel.close();
    await this.redis.close();
  }
}

/** `redis` with a near cache kept up to date through a subscriber connection of its own (a duplicate of `client`). */
export function withNearCache(redis: RedisDriver, client: ChannelClient & { duplicate(): ChannelClient }, request: NearCacheRequest): NearCachedDriver {
  const near = new NearCache(request.settings);
  return new NearCachedDriver(redis, near, new InvalidationChannel(client, client.duplicate(), request.channel, near, request.settings.maxLagMs, request.onChange));
}
