/**
 * Tags whose invalidation could not be written. They are retried with backoff until written, and
 * meanwhile this process treats them as invalidated: it neither serves nor stores entries that
 * carry them. Nothing is dropped while the process lives.
 */
export class PendingInvalidations {
  private readonly tags = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private flushing: Promise<boolean> | undefined;
  private stopped = false;

  constructor(
    private readonly write: (tags: string[]) => Promise<boolean>,
    private readonly initialDelayMs: number,
    private readonly maxDelayMs: number,
  ) {}

  get size(): number {
    return this.tags.size;
  }

  has(tag: string): boolean {
    return this.tags.size > 0 && this.tags.has(tag);
  }

  add(tags: Iterable<string>): void {
    for (const tag of tags) this.tags.add(tag);
    this.schedule();
  }

  /** Forgets tags that a later invalidation has written. */
  settled(tags: Iterable<string>): void {
    if (this.tags.size === 0) return;
    for (const tag of tags) this.tags.delete(tag);
  }

  /** Tries to write every pending tag now; resolves `true` when none is left. */
  flush(): Promise<boolean> {
    this.flushing ??= this.writePending().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async writePending(): Promise<boolean> {
    if (this.tags.size === 0) return true;
    const batch = [...this.tags];
    if (await this.write(batch)) {
      this.settled(batch);
      this.attempt = 0;
    }
    if (this.tags.size > 0) this.schedule();
    return this.tags.size === 0;
  }

  private schedule(): void {
    if (this.timer || this.stopped || this.tags.size === 0) return;
    const delay = Math.min(this.initialDelayMs * 2 ** this.attempt, this.maxDelayMs);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delay);
    this.timer.unref();
  }
}
