import { Keyv } from 'keyv';
import { CacheTagsError } from './errors.js';

type KeyvRedisModule = typeof import('@keyv/redis'); // eslint-disable-line @typescript-eslint/consistent-type-imports -- a type-only view of an optional peer loaded lazily

/*
 * @keyv/redis with its defaults hangs every call while Redis is unreachable and replays queued
 * commands when it returns (shared/notes/orm-events.md §5). These settings make every call fail
 * fast instead, so the gateway's breaker can take over, and let the client reconnect by itself.
 */
export async function createRedisKeyv(url: string, timeoutMs: number): Promise<RedisKeyv> {
  let mod: KeyvRedisModule;
  try {
    mod = await import('@keyv/redis');
  } catch (cause) {
    throw new CacheTagsError('E_MISSING_PEER', `store "${url}" needs the optional peer dependency @keyv/redis: npm install @keyv/redis`, { cause });
  }
  const store = new mod.default(
    {
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout: timeoutMs, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000) },
    },
    { throwOnErrors: true, throwOnConnectError: true, connectionTimeout: timeoutMs },
  );
  const keyv = new Keyv(store, { useKeyPrefix: false, throwOnErrors: true, namespace: undefined, ...PLAIN_JSON });
  return Object.assign(keyv, {
    /*
     * Reads the values Keyv wrote with one MGET straight on the client: the hit path's only round
     * trip, without Keyv's per-row hooks and awaits (a third of a hit's time). It decodes exactly
     * what PLAIN_JSON and Keyv write: `{ value, expires }`.
     */
    async readMany(keys: string[]): Promise<unknown[]> {
      const rows = await (await store.getClient()).mGet(keys);
      const now = Date.now();
      return rows.map((row) => {
        if (row === null || row === undefined) return undefined;
        const data = JSON.parse(String(row)) as { value: unknown; expires?: number | null };
        return typeof data.expires === 'number' && now > data.expires ? undefined : data.value;
      });
    },
    /*
     * Writes without a TTL (tag versions, by default) as one MSET, in the envelope Keyv writes;
     * anything with a TTL goes through Keyv (MULTI + SET PX).
     */
    async writeMany(writes: { key: string; value: unknown; ttl: number | undefined }[]): Promise<void> {
      if (writes.some((w) => w.ttl !== undefined)) {
        await keyv.setMany(writes);
        return;
      }
      await (await store.getClient()).mSet(writes.map((w): [string, string] => [w.key, JSON.stringify({ value: w.value })]));
    },
  });
}

/** A Keyv over Redis that cache-tags created, with faster batch reads and writes. */
export type RedisKeyv = Keyv & {
  readMany(keys: string[]): Promise<unknown[]>;
  writeMany(writes: { key: string; value: unknown; ttl: number | undefined }[]): Promise<void>;
};

/** The fast batch operations of a store cache-tags created, when it has them. */
export function fastPaths(keyv: Keyv): Partial<Pick<RedisKeyv, 'readMany' | 'writeMany'>> {
  return keyv as unknown as Partial<RedisKeyv>;
}

/*
 * What cache-tags hands Keyv is JSON-safe already (its own serializer encodes Date, BigInt, Map...).
 * Keyv's default serializer would walk every string with a reviver for the types it encodes itself:
 * most of the CPU of a hit. Plain JSON is enough.
 */
export const PLAIN_JSON = {
  serialize: (data: unknown): string => JSON.stringify(data),
  deserialize: (text: string): any => JSON.parse(text),
};

/** Whether a `store` option is a Redis URL. */
export function isRedisUrl(store: unknown): store is string {
  return typeof store === 'string' && /^rediss?:\/\//.test(store);
}
