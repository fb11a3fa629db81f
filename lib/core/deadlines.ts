import { performance } from 'node:perf_hooks';

/** A call being timed: what to do when its time is up, until it is settled. */
export interface Deadline {
  readonly at: number;
  expire: (() => void) | undefined;
}

/**
 * The timeouts of the store calls of one gateway, on one timer. A timer of its own per call (set,
 * then cleared as the store answers) cost about as much CPU as the rest of a hit's bookkeeping;
 * here a call costs a set entry, and the timer is re-armed only when it fires or a call's time is
 * up earlier than the one it waits for. It keeps the process alive only while a call is pending,
 * as a timer per call did.
 */
export class Deadlines {
  private readonly pending = new Set<Deadline>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  /** Runs `expire` once `limitMs` have passed, unless {@link Deadlines.settle} came first. */
  start(limitMs: number, expire: () => void): Deadline {
    const deadline: Deadline = { at: performance.now() + limitMs, expire };
    if (this.pending.size === 0) this.timer?.ref();
    this.pending.add(deadline);
    if (deadline.at < this.timerAt) this.arm(deadline.at, limitMs);
    return deadline;
  }

  /** Whether the call was still pending (it is not any more): `false` once its time was up. */
  settle(deadline: Deadline): boolean {
    if (deadline.expire === undefined) return false;
    deadline.expire = undefined;
    this.pending.delete(deadline);
    if (this.pending.size === 0) this.timer?.unref();
    return true;
  }

  private arm(at: number, inMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.check, Math.max(inMs, 0));
  }

  private readonly check = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    const due: (() => void)[] = [];
    for (const deadline of this.pending) {
      if (deadline.at <= now) {
        due.push(deadline.expire!);
        deadline.expire = undefined;
        this.pending.delete(deadline);
      } else if (deadline.at < next) {
        next = deadline.at;
      }
    }
    if (next !== Infinity) this.arm(next, next - now);
    for (const expire of due) expire();
  };
}
