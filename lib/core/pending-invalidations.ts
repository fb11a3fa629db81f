/**
 * Tags whose invalidation is not acknowledged yet: in flight (being written now) or failed (written
 * by a retry with backoff, later). Meanwhile this process treats them as invalidated: it neither
 * serves nor stores entries that carry them. Nothing is dropped while the process lives.
 */
export class PendingInvalidations {
  private readonly inFlight = new Map<string, number>();
  /** Failed tags, with the tick at which they failed. */
  private readonly failed = new Map<string, number>();
  private tick = 0;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private flushing: Promise<boolean> | undefined;
  private stopped = false;

  constructor(
    private readonly write: (tags: string[]) => Promise<boolean>,
    private readonly initialDelayMs: number,
    private readonly maxDelayMs: number,
    /** Told of the failed tags a retry has now written. */
    private readonly onRecovered: (tags: readonly string[]) => void,
  ) {}

  /** How many tags failed and wait for a retry. */
  get size(): number {
    return this.failed.size;
  }

  /** The tags that failed and wait for a retry. */
  get tags(): string[] {
    return [...this.failed.keys()];
  }

  /** Whether any invalidation is being written now. */
  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  has(tag: string): boolean {
    return (this.inFlight.size > 0 && this.inFlight.has(tag)) || (this.failed.size > 0 && this.failed.has(tag));
  }

  /** Marks `tags` as being written; returns the tick to hand to {@link end}. */
  begin(tags: readonly string[]): number {
    for (const tag of tags) this.inFlight.set(tag, (this.inFlight.get(tag) ?? 0) + 1);
    return ++this.tick;
  }

  /**
   * Records how a write begun at `startedAt` ended. A write that landed settles the failures
   * recorded before it began (it was written after their commits); a later failure stays.
   */
  end(tags: readonly string[], startedAt: number, written: boolean): void {
    const failedAt = written ? 0 : ++this.tick;
    for (const tag of tags) {
      const left = (this.inFlight.get(tag) ?? 1) - 1;
      if (left > 0) this.inFlight.set(tag, left);
      else this.inFlight.delete(tag);
      if (!written) this.failed.set(tag, failedAt);
      else if ((this.failed.get(tag) ?? Infinity) < startedAt) this.failed.delete(tag);
    }
    if (written) {
      if (this.failed.size === 0) this.attempt = 0;
    } else {
      this.schedule();
    }
  }

  /** Tries to write every failed tag now; resolves `true` when none is left. */
  flush(): Promise<boolean> {
    this.flushing ??= this.writeFailed().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async writeFailed(): Promise<boolean> {
    if (this.failed.size === 0) return true;
    const batch = this.tags;
    const startedAt = this.begin(batch);
    const written = await this.write(batch);
    this.end(batch, startedAt, written);
    if (written) this.onRecovered(batch);
    return this.failed.size === 0;
  }

  private schedule(): void {
    if (this.timer || this.stopped || this.failed.size === 0) return;
    const delay = Math.min(this.initialDelayMs * 2 ** this.attempt, this.maxDelayMs);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delay);
    this.timer.unref();
  }
}
