import { createClient } from 'redis';

/**
 * Deletes every Redis key of the benchmark cache namespaces that start with `prefix` (entries
 * `<ns>:...`, tag versions and sequence `{<ns>}:...`), so that runs leave nothing behind.
 */
export async function deleteNamespace(url: string, prefix: string): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  try {
    for (const match of [`${prefix}*`, `{${prefix}*`]) {
      for await (const keys of client.scanIterator({ MATCH: match, COUNT: 1000 })) {
        if (keys.length > 0) await client.del(keys);
      }
    }
  } finally {
    await client.close();
  }
}
