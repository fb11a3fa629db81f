import { performance } from 'node:perf_hooks';

/** A call being timed: what to do when its time is up, until it is settled. */
export interface Deadline {
  readonly at: number;
  expire: (() => void) | undefined;
}

/** A pending deadline, linked into its {@link Deadlines}' list. */
interface Link extends Deadline {
  prev: Link;
  next: Link;
}

/**
 * The timeouts of the store calls of one gateway, on one timer. A timer of its own per call (set,
 * then cleared as the store answers) cost about as much CPU as the rest of a hit's bookkeeping;
 * here a call costs a link in a list (a `Set` entry cost twice as much: hashing on every add and
 * delete), and the timer is re-armed only when it fires or a call's time is up earlier than the one
 * it waits for. It keeps the process alive only while a call is pending, as a timer per call did.
 */
export class Deadlines {
  /** The list's sentinel: pending deadlines sit between its `next` and its `prev`. */
  private readonly ring: Link;
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  constructor() {
    const ring = { at: Infinity, expire: undefined } as Link;
    ring.prev = ring.next = ring;
    this.ring = ring;
  }

  /** Runs `expire` once `limitMs` have passed, unless {@link Deadlines.settle} came first. */
  start(limitMs: number, expire: () => void): Deadline {
    const { ring } = this;
    const deadline: Link = { at: performance.now() + limitMs, expire, prev: ring.prev, next: ring };
    ring.prev.next = deadline;
    ring.prev = deadline;
    if (this.size++ === 0) this.timer?.ref();
    if (deadline.at < this.timerAt) this.arm(deadline.at, limitMs);
    return deadline;
  }

  /** Whether the call was still pending (it is not any more): `false` once its time was up. */
  settle(deadline: Deadline): boolean {
    if (deadline.expire === undefined) return false;
    this.unlink(deadline as Link);
    return true;
  }

  private unlink(deadline: Link): void {
    deadline.expire = undefined;
    deadline.prev.next = deadline.next;
    deadline.next.prev = deadline.prev;
    if (--this.size === 0) this.timer?.unref();
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
    const due: { at: number; expire: () => void }[] = [];
    for (let deadline = this.ring.next; deadline !== this.ring; deadline = deadline.next) {
      if (deadline.at <= now) {
        due.push({ at: deadline.at, expire: deadline.expire! });
        this.unlink(deadline); // keeps its `next`: the walk goes on from it
      } else if (deadline.at < next) {
        next = deadline.at;
      }
    }
    if (next !== Infinity) this.arm(next, next - now);
    // A timer that fired late (a busy event loop) finds several due: the earliest bound goes first, as it would have on time.
    if (due.length > 1) due.sort((a, b) => a.at - b.at);
    for (const { expire } of due) expire();
  };
}
