// Leaves Redis as the tests found it: the keys of the tests' database are listed before the run,
// and what the run added there is deleted after it. Every other database is only watched: one that
// grew was written by a test that ignored CACHE_TAGS_REDIS_URL, which fails the run under CI.
import { createClient } from 'redis';

async function keysOf(client) {
  const keys = new Set();
  for await (const batch of client.scanIterator({ COUNT: 1000 })) for (const key of [].concat(batch)) keys.add(key);
  return keys;
}

async function sizesOf(client) {
  const info = await client.info('keyspace');
  return Object.fromEntries([...info.matchAll(/^db(\d+):keys=(\d+)/gm)].map((m) => [m[1], Number(m[2])]));
}

export class RedisDatabaseGuard {
  constructor(client, before, sizes) {
    this.client = client;
    this.before = before;
    this.sizes = sizes;
  }

  static async open(url) {
    const client = createClient({ url });
    await client.connect();
    return new RedisDatabaseGuard(client, await keysOf(client), await sizesOf(client));
  }

  /** Deletes the keys the run added to the tests' database; names the other databases that grew. */
  async restore() {
    const left = [...(await keysOf(this.client))].filter((key) => !this.before.has(key));
    for (let i = 0; i < left.length; i += 500) await this.client.unlink(left.slice(i, i + 500));
    const now = await sizesOf(this.client);
    const grew = Object.keys(now).filter((db) => now[db] > (this.sizes[db] ?? 0));
    const sizes = Object.keys(now).map((db) => `db${db}=${now[db]}`).join(', ') || 'all empty';
    await this.client.close();
    return { removed: left.length, grew, sizes };
  }
}
