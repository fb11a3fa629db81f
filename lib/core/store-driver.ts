/** One write of a batch. */
export interface StoreWrite {
  key: string;
  value: unknown;
  /** Time to live in ms; `undefined`: no expiry. */
  ttl: number | undefined;
}

/** What {@link StoreDriver.mint} answers. */
export interface Minted {
  /** The namespace's sequence when the tokens were read or written (ordered stores). */
  sequence: number | undefined;
  /** One per tag key, in order. */
  tokens: unknown[];
}

/** A row that is there but cannot be decoded: a miss for its own key, nothing more. */
export const UNDECODABLE: unique symbol = Symbol('cache-tags.undecodable');

/**
 * What the cache needs of a backend, one implementation per kind of store (in-process, Redis,
 * any other Keyv). Every method throws when the store did not do what was asked; the gateway turns
 * that into "the store did not answer".
 */
export interface StoreDriver {
  /** Calls complete synchronously in this process: no timeout to pay, nothing to wait for. */
  readonly local: boolean;
  /**
   * Whether the store keeps an invalidation sequence per namespace and stamps it into the tokens it
   * writes, so that late-learned tags are judged exactly. Otherwise tokens carry a clock time.
   */
  readonly ordered: boolean;
  /** The values of `keys` in one round trip: `undefined` for an absent or expired key, {@link UNDECODABLE} for a bad row. */
  read(keys: readonly string[]): Promise<unknown[]>;
  /** {@link StoreDriver.read}, answered at once: every {@link StoreDriver.local} driver has it. */
  readNow?(keys: readonly string[]): unknown[];
  /**
   * Writes every row, in one round trip. With `channel` (a store near caches listen to), also
   * publishes the keys on it once they are written, so that every near cache drops what it holds of them.
   */
  write(writes: readonly StoreWrite[], channel?: string): Promise<void>;
  /** Deletes the keys (and publishes them on `channel`, as {@link StoreDriver.write}). */
  remove(keys: readonly string[], channel?: string): Promise<void>;
  /** Writes a fresh token for every tag key (after bumping the sequence, on an ordered store), in one round trip. */
  invalidate(sequenceKey: string, tagKeys: readonly string[], ttl: number | undefined): Promise<void>;
  /**
   * {@link StoreDriver.invalidate}, writing a held version (lib/core/tokens.ts) that expires after
   * `holdMs` instead of a fresh one: the sequence bump makes a version minted once the hold expired
   * postdate every computation the hold covered. Only a store that several processes share and that
   * writes every key in one step (one Redis) has it.
   */
  hold?(sequenceKey: string, tagKeys: readonly string[], holdMs: number): Promise<void>;
  /** The tokens of `tagKeys`, writing one for each key that has none (never overwriting one), in one round trip. */
  mint(sequenceKey: string, tagKeys: readonly string[], ttl: number | undefined): Promise<Minted>;
  /**
   * Takes the lock `key` for `ttlMs` with `token`, unless someone holds it (one atomic command):
   * whether this call took it. Only stores that several processes share and that can set a key
   * only if absent, with an expiry, in one step (Redis) have it.
   */
  lock?(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** Frees the lock `key` if `token` still holds it, in one step: a lock that expired and was taken by another stays. */
  unlock?(key: string, token: string): Promise<void>;
  /** Resolves once the store can take calls (a connection is up). */
  ready(): Promise<void> | undefined;
  /** Closes what the cache opened. */
  close(): Promise<void>;
  /** Stops what the driver set up on a store the cache does not own (listeners, timers), leaving it open. */
  release?(): void;
}

const TOKEN_ROW = '{"value":"';
const CLOSE_BRACE = 125;

/** Digits without a leading zero, as JSON writes an integer (and Lua the sequence): `Number` reads it the same. */
function isDecimal(text: string): boolean {
  if (text.length === 0 || (text.charCodeAt(0) === 48 && text.length > 1)) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Decodes one row in the envelope Keyv writes (`{ value, expires }`), as JSON text. A row that is
 * not valid JSON is {@link UNDECODABLE}; an expired one is absent.
 */
export function decodeRow(row: unknown, now: number): unknown {
  if (row === null || row === undefined) return undefined;
  if (typeof row === 'string') {
    // A tag version as cache-tags writes it, `{"value":"<token>"}`: its token needs no parser.
    if (row.startsWith(TOKEN_ROW)) {
      const end = row.indexOf('"', TOKEN_ROW.length);
      if (end === row.length - 2 && row.charCodeAt(end + 1) === CLOSE_BRACE && row.indexOf('\\', TOKEN_ROW.length) === -1) return row.slice(TOKEN_ROW.length, end);
    } else if (isDecimal(row)) {
      return Number(row); // the sequence
    }
  }
  let data: unknown;
  try {
    data = JSON.parse(row as string);
  } catch {
    return UNDECODABLE;
  }
  if (typeof data !== 'object' || data === null) return data; // a bare JSON value, not an envelope
  const { value, expires } = data as { value?: unknown; expires?: unknown };
  return typeof expires === 'number' && now > expires ? undefined : value;
}

/** Decodes the rows of one read in place (the client's fresh array): see {@link decodeRow}. */
export function decodeRows(rows: unknown[]): unknown[] {
  const now = Date.now();
  for (let i = 0; i < rows.length; i++) rows[i] = decodeRow(rows[i], now);
  return rows;
}

/** A row as Keyv writes it, so that reads through the Keyv instance keep working. */
export function encodeRow(value: unknown, ttl: number | undefined, now: number): string {
  return JSON.stringify(ttl === undefined ? { value } : { value, expires: now + ttl });
}
