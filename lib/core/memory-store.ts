import { UNDECODABLE, type Minted, type StoreDriver, type StoreWrite } from './store-driver.js';
import { Generations } from './generations.js';
import { orderedToken } from './tokens.js';

/*
 * The default in-process store. Keyv drops an expired entry only when it is read, so an unbounded
 * Map would grow with every distinct key: entries and tag versions are each bounded, separately,
 * so that a write that invalidates many tags never pushes the entries out (and many entries never
 * push the tag versions out). Forgetting is always safe: a lost entry is a miss, a lost tag version
 * means "invalidated".
 */

interface Row {
  value: unknown;
  expires?: number;
}

const OPEN_BRACE = 123;
const LETTER_S = 115;

/**
 * The in-process store, with the Map-like face Keyv uses (`get`, `set`, `delete`, `clear`, `has`).
 * Keys that start with `{` are tag versions (and the namespace's sequence), all others entries.
 */
export class MemoryStore {
  private readonly entries: Generations<Row>;
  private readonly tags: Generations<Row>;
  /** Invalidation sequences by key: never forgotten, or ordering would restart from zero. */
  private readonly sequences = new Map<string, number>();

  constructor(maxEntries: number, maxTagVersions: number) {
    this.entries = new Generations(maxEntries);
    this.tags = new Generations(maxTagVersions);
  }

  /** How many entries and tag versions are held. */
  get sizes(): { entries: number; tagVersions: number } {
    return { entries: this.entries.size, tagVersions: this.tags.size };
  }

  get(key: string, now?: number): Row | undefined {
    const area = this.area(key);
    const row = area.get(key);
    if (row?.expires !== undefined && (now ?? Date.now()) > row.expires) {
      area.delete(key);
      return undefined;
    }
    return row;
  }

  set(key: string, row: Row): this {
    this.area(key).set(key, row);
    return this;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  delete(key: string): boolean {
    return this.area(key).delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.tags.clear();
    this.sequences.clear();
  }

  /** The value of `key` at `now`, or its sequence when it is a sequence key. */
  value(key: string, now?: number): unknown {
    if (this.isSequence(key)) return this.sequences.get(key) ?? 0;
    return this.get(key, now)?.value;
  }

  /** The sequence at `key`, incremented. */
  bump(key: string): number {
    const next = (this.sequences.get(key) ?? 0) + 1;
    this.sequences.set(key, next);
    return next;
  }

  private isSequence(key: string): boolean {
    if (key.charCodeAt(0) !== OPEN_BRACE) return false;
    const close = key.indexOf('}');
    return key.charCodeAt(close + 2) === LETTER_S && close + 3 === key.length;
  }

  private area(key: string): Generations<Row> {
    return key.charCodeAt(0) === OPEN_BRACE ? this.tags : this.entries;
  }
}

/*
 * Entries are kept as JSON text: decoding a hit then starts from fresh objects (JSON.parse), so a
 * caller that mutates a returned value cannot change the stored one, and the decoder may revive
 * types in place instead of copying.
 */
export class MemoryDriver implements StoreDriver {
  readonly local = true;
  readonly ordered = true;

  constructor(private readonly store: MemoryStore) {}

  read(keys: readonly string[]): Promise<unknown[]> {
    return Promise.resolve(this.readNow(keys));
  }

  readNow(keys: readonly string[]): unknown[] {
    const now = Date.now();
    const rows = new Array<unknown>(keys.length);
    for (let i = 0; i < keys.length; i++) rows[i] = this.decode(this.store.value(keys[i], now));
    return rows;
  }

  write(writes: readonly StoreWrite[]): Promise<void> {
    const now = Date.now();
    for (const { key, value, ttl } of writes) {
      const row: Row = { value: typeof value === 'string' ? value : JSON.stringify(value) };
      if (ttl !== undefined) row.expires = now + ttl;
      this.store.set(key, row);
    }
    return Promise.resolve();
  }

  remove(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.store.delete(key);
    return Promise.resolve();
  }

  invalidate(sequenceKey: string, tagKeys: readonly string[], ttl: number | undefined): Promise<void> {
    const token = orderedToken(this.store.bump(sequenceKey));
    const expires = ttl === undefined ? undefined : Date.now() + ttl;
    for (const key of tagKeys) this.store.set(key, expires === undefined ? { value: token } : { value: token, expires });
    return Promise.resolve();
  }

  mint(sequenceKey: string, tagKeys: readonly string[], ttl: number | undefined): Promise<Minted> {
    const sequence = this.store.value(sequenceKey) as number;
    const token = orderedToken(sequence);
    const expires = ttl === undefined ? undefined : Date.now() + ttl;
    const tokens = tagKeys.map((key) => {
      const known = this.store.get(key)?.value;
      if (typeof known === 'string') return known;
      this.store.set(key, expires === undefined ? { value: token } : { value: token, expires });
      return token;
    });
    return Promise.resolve({ sequence, tokens });
  }

  ready(): undefined {
    return undefined;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Tokens and sequences are kept as they are; entries as text. */
  private decode(value: unknown): unknown {
    if (typeof value !== 'string' || value.charCodeAt(0) !== OPEN_BRACE) return value;
    try {
      return JSON.parse(value);
    } catch {
      return UNDECODABLE;
    }
  }
}
