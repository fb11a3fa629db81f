import { randomBytes } from 'node:crypto';

/*
 * A tag's version is an opaque token, written fresh on every invalidation (no read-modify-write).
 * Two forms, one per kind of store:
 * - `!<stamp>.<random>` on a store that orders invalidations (the in-process store, Redis through a
 *   `redis://` URL): `stamp` is the store's invalidation sequence when the token was written, so a
 *   computation can tell exactly whether a tag it learned late was invalidated after it began.
 * - `<ms since epoch, base36>.<random>` on any other Keyv store, judged with a clock margin.
 * The random part keeps a token that is lost and written again from ever equalling the old one.
 * A third form, `?<stamp>.<random>`, is a *held* version, written by the same script as an ordered
 * one, just before a change becomes visible elsewhere (a database commit): it stands until the
 * invalidation that follows replaces it. No entry is ever stored against it, so no process serves
 * or stores anything under the tag meanwhile; its stamp orders it as any invalidation's.
 */

/** The first character of an ordered token (`!`) and of a held one (`?`). */
const ORDERED = 0x21;
const HELD = 0x3f;

let pool = Buffer.alloc(0);
let poolOffset = 0;
const RANDOM_BYTES = 8;

/** A random, URL- and JSON-safe string: the part of a token that makes it unique. */
export function randomPart(): string {
  // Reading the OS RNG once per token costs more than the rest of an invalidation; draw in batches.
  if (poolOffset + RANDOM_BYTES > pool.length) {
    pool = randomBytes(RANDOM_BYTES * 256);
    poolOffset = 0;
  }
  const part = pool.toString('base64url', poolOffset, poolOffset + RANDOM_BYTES);
  poolOffset += RANDOM_BYTES;
  return part;
}

/** A clock token stamped with `now`, for stores that cannot order. */
export function clockToken(now: number = Date.now()): string {
  return `${now.toString(36)}.${randomPart()}`;
}

/** An ordered token: `stamp` is the store's invalidation sequence it was written at. */
export function orderedToken(stamp: number, random: string = randomPart()): string {
  return `!${stamp}.${random}`;
}

/** Whether `token` is a held version, against which nothing may be stored. */
export function isHeld(token: string): boolean {
  return token.charCodeAt(0) === HELD;
}

/** Whether any of `tokens` (`undefined`: no version known) is held. */
export function anyHeld(tokens: Iterable<string | undefined>): boolean {
  for (const token of tokens) if (token !== undefined && isHeld(token)) return true;
  return false;
}

/** The time a clock token was minted, or `undefined` for anything else. */
export function tokenTime(token: string): number | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0 || token.charCodeAt(0) === ORDERED) return undefined;
  const ms = parseInt(token.slice(0, dot), 36);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The sequence stamp of an ordered or held token, or `undefined` for anything else. */
export function tokenStamp(token: string): number | undefined {
  const first = token.charCodeAt(0);
  if (first !== ORDERED && first !== HELD) return undefined;
  const dot = token.indexOf('.');
  const stamp = Number(token.slice(1, dot < 0 ? undefined : dot));
  return Number.isSafeInteger(stamp) ? stamp : undefined;
}
