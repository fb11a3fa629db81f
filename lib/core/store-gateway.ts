import { type CircuitBreaker } from './circuit-breaker.js';
import { Deadlines } from './deadlines.js';
import { CacheTagsError } from './errors.js';
import type { Minted, StoreDriver, StoreWrite } from './store-driver.js';

/** How one call may deviate from the defaults. */
export interface CallOptions {
  /** Its own bound, in ms, instead of the gateway's. */
  timeoutMs?: number;
  /** Tries the store even while the circuit is open (an invalidation must try). */
  force?: boolean;
}

const same = <T>(value: T): T => value;
const acknowledged = (answer: unknown): boolean => answer !== false;

/**
 * Every store call of a cache goes through here: bounded by a timeout, skipped while the circuit is
 * open, and reported instead of thrown. Callers get `undefined`/`false` for "the store did not
 * answer" and carry on without it (fail open, never stale). A call that timed out may still run
 * later on the server; every write the cache makes is safe to land late (entries carry the versions
 * they were computed under, tokens are fresh, mints never overwrite).
 */
export class StoreGateway {
  private closed = false;
  private readonly unlocks = new Set<Promise<unknown>>();
  private readonly deadlines = new Deadlines();

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

  /** Whether the store answers in this process at once, through {@link StoreGateway.readNow}. */
  get local(): boolean {
    return this.driver.local;
  }

  /** Whether the store can take a lock that other processes see ({@link StoreDriver.lock}). */
  get locks(): boolean {
    return this.driver.lock !== undefined;
  }

  /** After this, no call reaches the store: a closed cache must not reopen its connection. */
  close(): void {
    this.closed = true;
  }

  /**
   * Values for `keys` at once, from a {@link StoreGateway.local} store (no bookkeeping of a remote
   * call: it cannot hang); `undefined` when the cache is closed.
   */
  readNow(keys: readonly string[]): unknown[] | undefined {
    return this.closed ? undefined : this.driver.readNow!(keys);
  }

  /** Values for `keys` in one round trip, or `undefined` when the store did not answer. */
  read(keys: readonly string[]): Promise<unknown[] | undefined>;
  /**
   * What `then` makes of the values for `keys` (`undefined` when the store did not answer), run as
   * the store answers: the hit path's one step after the round trip.
   */
  read<R>(keys: readonly string[], then: (rows: unknown[] | undefined) => R): Promise<Awaited<R>>;
  read(keys: readonly string[], then: (rows: unknown[] | undefined) => unknown = same): Promise<unknown> {
    if (this.driver.local) return Promise.resolve(this.readNow(keys)).then(then);
    return this.call('read', () => this.driver.read(keys), undefined, then);
  }

  /**
   * Writes all rows in one round trip; `false` when any of them may not have been written.
   * `channel`: see {@link StoreDriver.write}.
   */
  async write(writes: readonly StoreWrite[], channel?: string): Promise<boolean> {
    return (await this.call('write', () => this.driver.write(writes, channel), false, same)) !== false;
  }

  async remove(keys: readonly string[], channel?: string): Promise<boolean> {
    return (await this.call('delete', () => this.driver.remove(keys, channel), false, same)) !== false;
  }

  /** The tokens of `tagKeys`, minting the missing ones; `undefined` when the store did not answer. */
  mint(sequenceKey: string, tagKeys: readonly string[], ttl: number | undefined): Promise<Minted | undefined> {
    return this.call('mint', () => this.driver.mint(sequenceKey, tagKeys, ttl), undefined, same);
  }

  /** Whether this call took the lock `key`; `undefined` when the store did not answer. */
  lock(key: string, token: string, ttlMs: number): Promise<boolean | undefined> {
    return this.call('lock', () => this.driver.lock!(key, token, ttlMs), undefined, same);
  }

  /**
   * Frees the lock `key` if `token` holds it, in the background (the caller has its value); a
   * failure is reported, and the lock expires by itself. {@link StoreGateway.drain} waits for it.
   */
  unlock(key: string, token: string): void {
    const freeing: Promise<unknown> = this.call('unlock', () => this.driver.unlock!(key, token), undefined, same).finally(() => this.unlocks.delete(freeing));
    this.unlocks.add(freeing);
  }

  /** Resolves once the locks being freed are: a lock left behind would hold other processes up until it expires. */
  async drain(): Promise<void> {
    await Promise.all(this.unlocks);
  }

  /** Writes fresh tokens; `true` once the store acknowledged them. */
  invalidate(sequenceKey: string, tagKeys: readonly string[], ttl: number | undefined, options: CallOptions = {}): Promise<boolean> {
    return this.call('invalidate', () => this.driver.invalidate(sequenceKey, tagKeys, ttl), false, acknowledged, options);
  }

  /** Whether the store can hold tags ({@link StoreDriver.hold}). */
  get holds(): boolean {
    return this.driver.hold !== undefined;
  }

  /** Writes a held version for `tagKeys`; `true` once the store acknowledged it. */
  hold(sequenceKey: string, tagKeys: readonly string[], holdMs: number): Promise<boolean> {
    return this.call('hold', () => this.driver.hold!(sequenceKey, tagKeys, holdMs), false, acknowledged);
  }

  /** What `then` makes of the store's answer, or of `unanswered` when it gave none. */
  private call<T, U, R>(operation: string, op: () => Promise<T>, unanswered: U, then: (answer: T | U) => R, options: CallOptions = {}): Promise<Awaited<R>> {
    if (this.closed || (!options.force && !this.breaker.allow())) return Promise.resolve(unanswered).then(then) as Promise<Awaited<R>>;
    if (this.driver.local) return op().then(then) as Promise<Awaited<R>>;
    return new Promise<Awaited<R>>((resolve, reject) => {
      const settle = (answer: T | U): void => {
        try {
          resolve(then(answer) as Awaited<R>);
        } catch (error) {
          reject(error); // eslint-disable-line @typescript-eslint/prefer-promise-reject-errors -- what `then` threw, passed on as it is
        }
      };
      const limit = options.timeoutMs ?? this.timeoutMs;
      // Settled by whichever comes first; a hung call's late settling is then ignored.
      const deadline = this.deadlines.start(limit, () => {
        settle(this.failed(operation, new CacheTagsError('E_STORE_TIMEOUT', `the store did not answer ${operation} within ${limit} ms`), unanswered));
      });
      const answered = (value: T): void => {
        if (this.deadlines.settle(deadline)) settle(this.succeeded(value));
      };
      const failed = (error: unknown): void => {
        if (this.deadlines.settle(deadline)) settle(this.failed(operation, error, unanswered));
      };
      try {
        // Calls made before the connection is up wait for it, within the same bound.
        const ready = this.driver.ready();
        (ready ? ready.then(op) : op()).then(answered, failed);
      } catch (error) {
        failed(error);
      }
    });
  }

  private succeeded<T>(value: T): T {
    const wasOpen = this.breaker.isOpen;
    this.breaker.succeeded();
    if (wasOpen) this.onRecovery();
    return value;
  }

  private failed<U>(operation: string, error: unknown, unanswered: U): U {
    this.breaker.failed();
    this.onFailure(operation, error);
    return unanswered;
  }
}
