import { createClient } from 'redis';

/** Deletes every Redis key of a benchmark's cache namespace, so that runs leave nothing behind. */
export async function deleteNamespace(url: string, namespace: string): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${namespace}:*`, COUNT: 1000 })) {
      if (keys.length > 0) await client.del(keys);
    }
  } finally {
    await client.close();
  }
}
