import type { Keyv } from 'keyv';
import { type CircuitBreaker } from './circuit-breaker.js';
import { CacheTagsError } from './errors.js';
import { fastPaths } from './redis-store.js';

/** One write of a batch. */
export interface StoreWrite {
  key: string;
  value: unknown;
  ttl: number | undefined;
}

/**
 * Every store call of a cache goes through here: bounded by a timeout, skipped while the circuit is
 * open, and reported instead of thrown. Callers get `undefined`/`false` for "the store did not
 * answer" and carry on without it (DESIGN.md invariant 6).
 */
export class StoreGateway {
  /*
   * Keyv and its adapters may swallow a failed command and report success, emitting an 'error'
   * event instead. A call during which the store reported any error counts as failed: at worst a
   * read becomes a miss and an invalidation is written twice.
   */
  private storeErrors = 0;
  private closed = false;

  constructor(
    private readonly keyv: () => Keyv | Promise<Keyv>,
    private readonly timeoutMs: number,
    private readonly breaker: CircuitBreaker,
    private readonly onFailure: (operation: string, error: unknown) => void,
    private readonly onRecovery: () => void,
  ) {}

  /** Counts an 'error' event of the store. */
  storeReportedError(): void {
    this.storeErrors += 1;
  }

  /** After this, no call reaches the store: a closed cache must not reopen its connection. */
  close(): void {
    this.closed = true;
  }

  /** Values for `keys` in one round trip, or `undefined` when the store did not answer. */
  async getMany(keys: string[]): Promise<unknown[] | undefined> {
    const read = (keyv: Keyv): Promise<unknown[]> => fastPaths(keyv).readMany?.(keys) ?? keyv.getMany(keys);
    return (await this.call('getMany', read))?.value;
  }

  /** Writes all entries in one round trip; `false` when any of them may not have been written. */
  async setMany(writes: StoreWrite[]): Promise<boolean> {
    const answer = await this.call('setMany', (keyv): Promise<unknown> => fastPaths(keyv).writeMany?.(writes) ?? keyv.setMany(writes));
    if (!answer) return false;
    // Keyv reports a swallowed store error as `false` in its results.
    if (Array.isArray(answer.value) && answer.value.some((ok) => ok === false)) {
      this.fail('setMany', new CacheTagsError('E_STORE_UNAVAILABLE', 'the store reported that a write failed'));
      return false;
    }
    return true;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    return (await this.call('deleteMany', (keyv) => keyv.deleteMany(keys))) !== undefined;
  }

  /** The store's answer, or `undefined` when it gave none. */
  private async call<T>(operation: string, op: (keyv: Keyv) => Promise<T>): Promise<{ value: T } | undefined> {
    if (this.closed || !this.breaker.allow()) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new CacheTagsError('E_STORE_TIMEOUT', `the store did not answer ${operation} within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    const errorsBefore = this.storeErrors;
    const keyv = this.keyv();
    const attempt = keyv instanceof Promise ? keyv.then(op) : op(keyv);
    // A hung call may settle long after we gave up on it; its late rejection must not go unhandled.
    attempt.catch(() => undefined);
    try {
      const result = await Promise.race([attempt, timeout]);
      if (this.storeErrors !== errorsBefore) throw new CacheTagsError('E_STORE_UNAVAILABLE', `the store reported an error during ${operation}`);
      const wasOpen = this.breaker.isOpen;
      this.breaker.succeeded();
      if (wasOpen) this.onRecovery();
      return { value: result };
    } catch (error) {
      this.fail(operation, error);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private fail(operation: string, error: unknown): void {
    this.breaker.failed();
    this.onFailure(operation, error);
  }
}
