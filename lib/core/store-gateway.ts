import { type CircuitBreaker } from './circuit-breaker.js';
import { CacheTagsError } from './errors.js';
import type { Minted, StoreDriver, StoreWrite } from './store-driver.js';

/** How one call may deviate from the defaults. */
export interface CallOptions {
  /** Its own bound, in ms, instead of the gateway's. */
  timeoutMs?: number;
  /** Tries the store even while the circuit is open (an invalidation must try). */
  force?: boolean;
}

/**
 * Every store call of a cache goes through here: bounded by a timeout, skipped while the circuit is
 * open, and reported instead of thrown. Callers get `undefined`/`false` for "the store did not
 * answer" and carry on without it (fail open, never stale). A call that timed out may still run
 * later on the server; every write the cache makes is safe to land late (entries carry the versions
 * they were computed under, tokens are fresh, mints never overwrite).
 */
export class StoreGateway {
  private closed = false;

  constructor(
    private readonly driver: StoreDriver,
    private readonly timeoutMs: number,
    private readonly breaker: CircuitBreaker,
    private readonly onFailure: (operation: string, error: unknown) => void,
    private readonly onRecovery: () => void,
  ) {}

  /** Whether the store orders invalidations (see {@link StoreDriver.ordered}). */
  get ordered(): boolean {
    return this.driver.ordered;
  }

  /** After this, no call reaches the store: a closed cache must not reopen its connection. */
  close(): void {
    this.closed = true;
  }

  /** Values for `keys` in one round trip, or `undefined` when the store did not answer. */
  read(keys: readonly string[]): Promise<unknown[] | undefined> {
    // The hit path's one call: an in-process store answers it without the bookkeeping of a remote call.
    if (this.driver.local) return this.closed ? Promise.resolve(undefined) : this.driver.read(keys);
    return this.call('read', () => this.driver.read(keys)).then((answer) => answer?.value);
  }

  /** Writes all rows in one round trip; `false` when any of them may not have been written. */
  async write(writes: readonly StoreWrite[]): Promise<boolean> {
    return (await this.call('write', () => this.driver.write(writes))) !== undefined;
  }

  async remove(keys: readonly string[]): Promise<boolean> {
    return (await this.call('delete', () => this.driver.remove(keys))) !== undefined;
  }

  /** The tokens of `tagKeys`, minting the missing ones; `undefined` when the store did not answer. */
  async mint(sequenceKey: string, tagKeys: readonly string[], ttl: number | undefined): Promise<Minted | undefined> {
    return (await this.call('mint', () => this.driver.mint(sequenceKey, tagKeys, ttl)))?.value;
  }

  /** Writes fresh tokens; `true` once the store acknowledged them. */
  async invalidate(sequenceKey: string, tagKeys: readonly string[], ttl: number | undefined, options: CallOptions = {}): Promise<boolean> {
    return (await this.call('invalidate', () => this.driver.invalidate(sequenceKey, tagKeys, ttl), options)) !== undefined;
  }

  /** The store's answer, or `undefined` when it gave none. */
  private async call<T>(operation: string, op: () => Promise<T>, options: CallOptions = {}): Promise<{ value: T } | undefined> {
    if (this.closed || (!options.force && !this.breaker.allow())) return undefined;
    if (this.driver.local) return { value: await op() };
    const limit = options.timeoutMs ?? this.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    // Calls made before the connection is up wait for it, within the same bound.
    const ready = this.driver.ready();
    const attempt = ready ? ready.then(op) : op();
    // One promise settled by whichever comes first; a hung call's late settling is then ignored.
    const bounded = new Promise<T>((resolve, reject) => {
      timer = setTimeout(() => reject(new CacheTagsError('E_STORE_TIMEOUT', `the store did not answer ${operation} within ${limit} ms`)), limit);
      attempt.then(resolve, reject);
    });
    try {
      const value = await bounded;
      const wasOpen = this.breaker.isOpen;
      this.breaker.succeeded();
      if (wasOpen) this.onRecovery();
      return { value };
    } catch (error) {
      this.breaker.failed();
      this.onFailure(operation, error);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
