import { Keyv } from 'keyv';
import { CacheTagsError } from './errors.js';

type KeyvRedisModule = typeof import('@keyv/redis'); // eslint-disable-line @typescript-eslint/consistent-type-imports -- a type-only view of an optional peer loaded lazily

/*
 * @keyv/redis with its defaults hangs every call while Redis is unreachable and replays queued
 * commands when it returns (shared/notes/orm-events.md §5). These settings make every call fail
 * fast instead, so the gateway's breaker can take over, and let the client reconnect by itself.
 */
export async function createRedisKeyv(url: string, timeoutMs: number): Promise<Keyv> {
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
  return new Keyv(store, { useKeyPrefix: false, throwOnErrors: true, namespace: undefined });
}

/** Whether a `store` option is a Redis URL. */
export function isRedisUrl(store: unknown): store is string {
  return typeof store === 'string' && /^rediss?:\/\//.test(store);
}
