import type { CacheParts, Outcome } from './cache-parts.js';

interface Flight {
  promise: Promise<Outcome>;
  /** Set when the leader's source starts reading: a caller joining before that gets data read after it came. */
  sourceStarted: boolean;
  verification?: Promise<boolean>;
}

/**
 * Runs one lookup-or-compute of a key; `onSourceStart` is called just before the source runs. An
 * outcome returned at once (an in-process hit) is no flight: no other caller can have come meanwhile.
 */
export type Lead = (onSourceStart: () => void) => Outcome | Promise<Outcome>;

const same = (outcome: Outcome): Outcome => outcome;

/**
 * Concurrent calls for one key in this process share one run. A caller that joins a run in
 * progress never gets a value older than a write that returned before it joined:
 * - joined before the source started: the value was read after the caller came, it is fresh enough;
 * - otherwise the value is reused only if the store answered, every version is known, and a read
 *   made after the run (once for all who joined it) finds every version still current; else the
 *   caller runs again by itself. A value computed without the store is never shared so.
 */
export class SingleFlight {
  private readonly flights = new Map<string, Flight>();

  constructor(private readonly parts: CacheParts) {}

  /**
   * What `deliver` makes of the outcome of `lead`, or of the run in progress for `entryKey`. The
   * leader's delivery is the flight's first reaction to its end, so that no other caller resumes
   * before the flight is gone.
   */
  run<R>(entryKey: string, lead: Lead, deliver: (outcome: Outcome) => R): R | Promise<R> {
    const flight = this.flights.get(entryKey);
    if (!flight) return this.start(entryKey, lead, deliver);
    this.parts.counters.joined++;
    return this.follow(flight, entryKey, lead, false).then(deliver);
  }

  private start<R>(entryKey: string, lead: Lead, deliver: (outcome: Outcome) => R): R | Promise<R> {
    const started: Flight = { promise: undefined as unknown as Promise<Outcome>, sourceStarted: false };
    const led = lead(() => (started.sourceStarted = true));
    if (!(led instanceof Promise)) return deliver(led);
    /*
     * Removed by the first reaction to the flight's end, before any caller awaiting it resumes; a
     * caller that finds it in between joins a finished flight and verifies its outcome like any
     * other. One reaction removes it and delivers to the leader: on a hit, a step less.
     */
    const land = (): void => {
      if (this.flights.get(entryKey) === started) this.flights.delete(entryKey);
    };
    const delivered = led.then(
      (outcome) => {
        land();
        return deliver(outcome);
      },
      (error: unknown) => {
        land();
        throw error;
      },
    );
    started.promise = led;
    this.flights.set(entryKey, started);
    return delivered;
  }

  private async follow(flight: Flight, entryKey: string, lead: Lead, retried: boolean): Promise<Outcome> {
    const joinedBeforeSource = !flight.sourceStarted;
    const outcome = await flight.promise;
    // A retry joins only a flight that began after this caller first came: its data is newer.
    if (retried || (joinedBeforeSource && outcome.computed)) return outcome;
    if (outcome.verifiable) {
      flight.verification ??= this.stillCurrent(outcome.versions);
      if (await flight.verification) return outcome;
    }
    this.parts.counters.reran++;
    const again = this.flights.get(entryKey);
    return again ? this.follow(again, entryKey, lead, true) : this.start(entryKey, lead, same);
  }

  private async stillCurrent(versions: Readonly<Record<string, string | undefined>>): Promise<boolean> {
    const tags = Object.keys(versions);
    if (tags.length === 0) return true;
    for (const tag of tags) if (versions[tag] === undefined || this.parts.pending.has(tag)) return false;
    const current = await this.parts.versions.read(tags);
    return current !== undefined && tags.every((tag) => current.get(tag) === versions[tag]);
  }
}
