/**
 * Circuit breaker settings.
 * @public
 */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 1: one connect timeout is enough to pay. */
  failureThreshold?: number;
  /** How long an open circuit skips the store before one call tries it again. Default 2000 ms. */
  resetAfterMs?: number;
}

/*
 * Closed: every call goes to the store. Open: calls skip the store at once. After resetAfterMs one
 * call (half-open) probes; its success closes the circuit, its failure opens it again.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private probing = false;
  private readonly threshold: number;
  private readonly resetAfterMs: number;

  constructor(options: CircuitBreakerOptions = {}, private readonly now: () => number = Date.now) {
    this.threshold = options.failureThreshold ?? 1;
    this.resetAfterMs = options.resetAfterMs ?? 2000;
  }

  get isOpen(): boolean {
    return this.openedAt !== undefined;
  }

  /** Whether a call may go to the store now. A `true` in the open state claims the single probe. */
  allow(): boolean {
    if (this.openedAt === undefined) return true;
    if (this.probing || this.now() - this.openedAt < this.resetAfterMs) return false;
    this.probing = true;
    return true;
  }

  succeeded(): void {
    this.failures = 0;
    this.openedAt = undefined;
    this.probing = false;
  }

  failed(): void {
    this.failures += 1;
    this.probing = false;
    if (this.openedAt !== undefined || this.failures >= this.threshold) this.openedAt = this.now();
  }
}
