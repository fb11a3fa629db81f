import type { KeyBuilder } from './keys.js';
import type { CallOptions, StoreGateway } from './store-gateway.js';
import { isHeld, tokenStamp, tokenTime } from './tokens.js';

/** Versions captured by {@link TagVersions.capture}, with the sequence they were read at. */
export type Captured = Map<string, string> & { sequence?: number | undefined };

/**
 * The tag versions of one namespace: reading, minting and invalidating them, and judging whether
 * a version read *after* the data it covers predates the computation that read the data.
 */
export class TagVersions {
  constructor(
    private readonly keys: KeyBuilder,
    private readonly gateway: StoreGateway,
    private readonly ttl: number | undefined,
    private readonly clockSkewMs: number,
  ) {}

  /** Whether the store orders invalidations: a lookup then reads the sequence with the entry. */
  get ordered(): boolean {
    return this.gateway.ordered;
  }

  /** The current version of each tag that has one; `undefined` when the store did not answer. */
  async read(tags: readonly string[]): Promise<Map<string, string> | undefined> {
    const versions = new Map<string, string>();
    if (tags.length === 0) return versions;
    const rows = await this.gateway.read(tags.map((tag) => this.keys.tag(tag)));
    if (!rows) return undefined;
    tags.forEach((tag, i) => {
      const token = rows[i];
      if (typeof token === 'string') versions.set(tag, token);
    });
    return versions;
  }

  /**
   * The current version of every tag, writing one for each tag that has none: before storing
   * against a tag, it must have a version (a missing version is never a valid version).
   */
  async capture(tags: readonly string[]): Promise<Captured | undefined> {
    const versions: Captured = new Map();
    if (tags.length === 0) return versions;
    const minted = await this.gateway.mint(this.keys.sequence, tags.map((tag) => this.keys.tag(tag)), this.ttl);
    if (!minted || minted.tokens.length !== tags.length) return undefined;
    for (let i = 0; i < tags.length; i++) {
      const token = minted.tokens[i];
      if (typeof token !== 'string') return undefined;
      versions.set(tags[i], token);
    }
    versions.sequence = minted.sequence;
    return versions;
  }

  /**
   * The namespace's sequence, written if it has none (a namespace never invalidated, or one whose
   * sequence was lost); `undefined` when the store did not answer.
   */
  async sequence(): Promise<number | undefined> {
    return (await this.gateway.mint(this.keys.sequence, [], this.ttl))?.sequence;
  }

  /** Writes fresh versions for `tags`; `true` once the store acknowledged them. */
  invalidate(tags: readonly string[], options?: CallOptions): Promise<boolean> {
    return this.gateway.invalidate(this.keys.sequence, tags.map((tag) => this.keys.tag(tag)), this.ttl, options);
  }

  /**
   * Writes one held version for all `tags`; `true` once the store acknowledged it, `undefined` when
   * the store cannot hold.
   */
  hold(tags: readonly string[], holdMs: number): Promise<boolean> | undefined {
    if (!this.gateway.holds) return undefined;
    return this.gateway.hold(this.keys.sequence, tags.map((tag) => this.keys.tag(tag)), holdMs);
  }

  /**
   * What a computation notes when it starts, to judge late-learned versions by: the highest
   * sequence read before its source ran (an ordered store), or the time (any other store).
   */
  startMark(...sequences: unknown[]): number | undefined {
    if (!this.ordered) return Date.now();
    let mark: number | undefined;
    for (const s of sequences) if (typeof s === 'number' && Number.isSafeInteger(s) && (mark === undefined || s > mark)) mark = s;
    return mark;
  }

  /**
   * Whether `token`, read after the data it covers, was written before the computation that read
   * the data began, so that no invalidation can lie between the data and the version. Ordered:
   * stamped at or below the sequence read at the start, exact. Otherwise: minted more than
   * `clockSkewMs` before the start.
   */
  predates(token: string, mark: number | undefined): boolean {
    if (mark === undefined) return false;
    if (isHeld(token)) return false;
    if (this.ordered) {
      const stamp = tokenStamp(token);
      return stamp !== undefined && stamp <= mark;
    }
    const minted = tokenTime(token);
    return minted !== undefined && minted < mark - this.clockSkewMs;
  }
}
