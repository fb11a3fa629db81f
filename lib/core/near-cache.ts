import { performance } from 'node:perf_hooks';
import { Generations } from './generations.js';
import { decodeRow } from './store-driver.js';
import { tokenStamp } from './tokens.js';

/** The near cache of one {@link TagCache}, checked and with its defaults. */
export interface NearCacheSettings {
  maxEntries: number;
  maxLagMs: number;
}

/** What a read noted when it started, so that what it brings back can be judged when it lands. */
export interface ReadMark {
  readonly tags: number;
  readonly entries: number;
}

const OPEN_BRACE = 123;

/** An ordered token's stamp; anything else sorts first. */
const stampOf = (token: string): number => tokenStamp(token) ?? -Infinity;

/*
 * The in-process tier in front of Redis (docs/near-cache.md): entry rows as Redis holds them (text,
 * so that every hit decodes fresh objects) and the latest tag version seen. A near hit needs the
 * entry and the version of each of its tags here, equal, and the invalidation channel confirmed
 * within `maxLagMs`.
 *
 * What may put a version here, and why it can never put an older one back:
 * - a message of the channel: messages arrive in the order their invalidations ran;
 * - a read's reply: only over a version with a lower stamp (a later invalidation always has a
 *   higher one), or for a tag that has none here if no version was forgotten while the read was
 *   on its way (it may have been read before the invalidation whose version was forgotten). The
 *   same for entries: a read that overlapped the drop of an entry (a write of this process) does
 *   not bring it back.
 */
export class NearCache {
  private readonly entries: Generations<string>;
  private readonly tokens: Generations<string>;
  /** Bumped whenever versions are forgotten: a read in flight meanwhile may not fill the gap. */
  private tagChanges = 0;
  /** Bumped whenever entries are dropped by a write of this process. */
  private entryChanges = 0;
  /** Send time (monotonic) of the newest confirmation: every message published before it is applied. */
  private confirmedAt = -Infinity;
  /** Whether the channel is subscribed and what is held was learned since. */
  private synced = false;

  constructor(private readonly settings: NearCacheSettings) {
    this.entries = new Generations(settings.maxEntries, () => this.entryChanges++);
    this.tokens = new Generations(settings.maxEntries, () => this.tagChanges++);
  }

  /**
   * Whether the near cache may serve now: a confirmation sent less than `maxLagMs` ago came back,
   * so every invalidation that returned before then is applied here. A channel that is down or
   * late, or an event loop too busy to read it, closes this until it catches up.
   */
  serving(): boolean {
    return performance.now() - this.confirmedAt < this.settings.maxLagMs;
  }

  /** The entry row of `entryKey` held here. */
  entry(entryKey: string): string | undefined {
    return this.entries.get(entryKey);
  }

  /** The version of the tag at `tagKey` held here. */
  token(tagKey: string): string | undefined {
    return this.tokens.get(tagKey);
  }

  mark(): ReadMark {
    return { tags: this.tagChanges, entries: this.entryChanges };
  }

  /** Keeps what a read of `keys` begun at `mark` brought back (`rows` as Redis answered them). */
  remember(keys: readonly string[], rows: readonly unknown[], mark: ReadMark): void {
    if (!this.synced) return;
    const now = Date.now();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const row = rows[i];
      if (key.charCodeAt(0) !== OPEN_BRACE) {
        if (typeof row !== 'string') this.entries.delete(key);
        else if (mark.entries === this.entryChanges) this.entries.set(key, row);
        continue;
      }
      const token = decodeRow(row, now);
      if (typeof token === 'string') this.learn(key, token, mark);
      else if (token === undefined && this.tokens.delete(key)) this.tagChanges++; // a version Redis no longer has: "invalidated"
    }
  }

  /**
   * A message of the channel: an invalidation (`token` is the new version of every tag key), or,
   * without a token, keys to forget (entries written or deleted by `set`/`delete`, versions deleted
   * when Redis was out of memory).
   */
  applied(token: string, keys: readonly string[]): void {
    if (token === '') {
      const entries = keys.filter((key) => key.charCodeAt(0) !== OPEN_BRACE);
      if (entries.length > 0) this.dropEntries(entries);
      if (entries.length < keys.length) this.forgetTags(keys.filter((key) => key.charCodeAt(0) === OPEN_BRACE));
      return;
    }
    const stamp = stampOf(token);
    for (const key of keys) {
      const held = this.tokens.get(key);
      if (held === undefined || stampOf(held) <= stamp) this.tokens.set(key, token);
    }
  }

  /** Forgets the versions of tag keys (an invalidation of this process, before it returns). */
  forgetTags(tagKeys: readonly string[]): void {
    for (const key of tagKeys) this.tokens.delete(key);
    this.tagChanges++;
  }

  /** Drops entry rows (a write of this process, before it returns). */
  dropEntries(keys: readonly string[]): void {
    for (const key of keys) this.entries.delete(key);
    this.entryChanges++;
  }

  /**
   * The channel proved itself up to a confirmation sent at `sentAt`. The first one after a
   * (re)subscription drops everything held: versions read while no message could arrive may be old.
   * Returns whether it was that first one.
   */
  confirmed(sentAt: number): boolean {
    const first = !this.synced;
    if (first) {
      this.clear();
      this.synced = true;
    }
    if (sentAt > this.confirmedAt) this.confirmedAt = sentAt;
    return first;
  }

  /** The channel is down: messages may be lost, so nothing held may be served again. Returns whether it was up. */
  lost(): boolean {
    const was = this.synced;
    this.synced = false;
    this.confirmedAt = -Infinity;
    this.clear();
    return was;
  }

  private learn(key: string, token: string, mark: ReadMark): void {
    const held = this.tokens.get(key);
    if (held === undefined ? mark.tags === this.tagChanges : stampOf(token) > stampOf(held)) this.tokens.set(key, token);
  }

  private clear(): void {
    this.entries.clear();
    this.tokens.clear();
    this.tagChanges++;
    this.entryChanges++;
  }
}
