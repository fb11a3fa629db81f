import { performance } from 'node:perf_hooks';

/**
 * How long a held version stands, in ms, if the invalidation that should replace it never lands:
 * then it expires, and a missing version means "invalidated".
 */
export const TAG_HOLD_MS = 10_000;

/**
 * A change's end may skip waiting for its invalidation only while the hold surely still stands:
 * the hold expires `TAG_HOLD_MS` after it landed, which is after it was sent; half of that leaves
 * room for a server clock that runs fast.
 */
const HOLD_MARGIN_MS = TAG_HOLD_MS / 2;

/**
 * Tags held ahead of a change that becomes visible elsewhere first (a database commit), from
 * {@link TagCache.holdTags}.
 * @public
 */
export interface TagHold {
  /**
   * Invalidates the held tags; call it once the change is visible (the commit ended, or rolled
   * back). Resolves once the hold is acknowledged, without waiting for the invalidation's own round
   * trip, when the hold was written in time; otherwise it is {@link TagCache.invalidateTags}.
   * `source`: as for {@link TagCache.invalidateTags}.
   */
  invalidate(source?: unknown): Promise<void>;
}

/**
 * One hold: `acknowledged` is the store's answer to the held version (`undefined` on a store that
 * cannot hold), `invalidateTags` the invalidation that replaces it, done early while the hold stands.
 */
export class Hold implements TagHold {
  private readonly sentAt = performance.now();

  constructor(
    private readonly acknowledged: Promise<boolean> | undefined,
    private readonly invalidateTags: (source: unknown, held: Promise<boolean> | undefined) => Promise<void>,
  ) {}

  invalidate(source?: unknown): Promise<void> {
    const stands = performance.now() - this.sentAt < HOLD_MARGIN_MS;
    return this.invalidateTags(source, stands ? this.acknowledged : undefined);
  }
}
