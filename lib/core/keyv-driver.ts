import type { Keyv } from 'keyv';
import { CacheTagsError } from './errors.js';
import { UNDECODABLE, type Minted, type StoreDriver, type StoreWrite } from './store-driver.js';
import { clockToken } from './tokens.js';

/**
 * Any other Keyv store, through its public API. It cannot order invalidations: tokens carry the
 * writer's clock, and a tag learned late is judged with the `clockSkewMs` margin. Minting is a read
 * then a write, not atomic: two processes minting one tag at once both succeed, and the second
 * token makes the first one's entries miss (a recompute, never a stale hit).
 */
export class KeyvDriver implements StoreDriver {
  readonly local = false;
  readonly ordered = false;
  /*
   * Keyv and its adapters may swallow a failed command and report success, emitting an 'error'
   * event instead. A call during which the store reported any error counts as failed: at worst a
   * read becomes a miss and an invalidation is written twice.
   */
  private storeErrors = 0;

  constructor(private readonly keyv: Keyv) {
    keyv.on('error', () => (this.storeErrors += 1));
  }

  read(keys: readonly string[]): Promise<unknown[]> {
    return this.checked('read', async () => {
      try {
        return await this.keyv.getMany(keys as string[]);
      } catch (error) {
        // One row its deserializer rejects must not fail the others: read them one by one.
        const rows = await Promise.all(keys.map((key) => this.keyv.get(key).catch(() => UNDECODABLE)));
        if (rows.every((row) => row === UNDECODABLE)) throw error;
        return rows;
      }
    });
  }

  write(writes: readonly StoreWrite[]): Promise<void> {
    return this.checked('write', async () => {
      const results: unknown = await this.keyv.setMany(writes as StoreWrite[]);
      // Keyv reports a swallowed store error as `false` in its results.
      if (Array.isArray(results) && results.some((ok) => ok === false)) {
        throw new CacheTagsError('E_STORE_UNAVAILABLE', 'the store reported that a write failed');
      }
    });
  }

  remove(keys: readonly string[]): Promise<void> {
    return this.checked('remove', async () => {
      await this.keyv.deleteMany(keys as string[]);
    });
  }

  invalidate(_sequenceKey: string, tagKeys: readonly string[], ttl: number | undefined): Promise<void> {
    const now = Date.now();
    return this.write(tagKeys.map((key) => ({ key, value: clockToken(now), ttl })));
  }

  async mint(_sequenceKey: string, tagKeys: readonly string[], ttl: number | undefined): Promise<Minted> {
    const rows = await this.read(tagKeys);
    const now = Date.now();
    const writes: StoreWrite[] = [];
    const tokens = rows.map((row, i) => {
      if (typeof row === 'string') return row;
      const token = clockToken(now);
      writes.push({ key: tagKeys[i], value: token, ttl });
      return token;
    });
    if (writes.length > 0) await this.write(writes);
    return { sequence: undefined, tokens };
  }

  ready(): undefined {
    return undefined;
  }

  async close(): Promise<void> {
    await this.keyv.disconnect();
  }

  private async checked<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const before = this.storeErrors;
    const result = await call();
    if (this.storeErrors !== before) throw new CacheTagsError('E_STORE_UNAVAILABLE', `the store reported an error during ${operation}`);
    return result;
  }
}
