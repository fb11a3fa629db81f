import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { TagCache } from '../../lib/index.js';
import { REDIS_URL, reachable, redisAddress } from '../../test/support/servers.js';
import { deleteNamespace } from './redis-keys.js';

/** What a Redis benchmark gets: a cache in a namespace of its own, and a raw client beside it. */
export interface RedisBench {
  cache: TagCache;
  client: ReturnType<typeof createClient>;
  namespace: string;
}

/**
 * Runs `body` against the shared Redis and leaves nothing behind; prints one line and skips it
 * when Redis is not reachable.
 */
export async function withRedisBench(label: string, body: (bench: RedisBench) => Promise<void>): Promise<void> {
  const { host, port } = redisAddress(REDIS_URL);
  if (!(await reachable(host, port))) {
    console.log(`\nRedis is not reachable at ${host}:${port}: skipping the Redis ${label} benchmark.`);
    return;
  }
  const namespace = `bench-${randomUUID()}`;
  const cache = new TagCache({ store: REDIS_URL, namespace });
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    await body({ cache, client, namespace });
  } finally {
    await client.close();
    await cache.close();
    await deleteNamespace(REDIS_URL, namespace);
  }
}
