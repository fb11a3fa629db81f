import { randomBytes } from 'node:crypto';

/*
 * A tag's version is an opaque token "<ms since epoch, base36>.<random>". A fresh token is written on
 * every invalidation, so invalidation needs no read-modify-write and no atomic counter, and any
 * Keyv store can hold it. The time part lets a computation judge whether a tag it learned late may
 * have been invalidated after the computation started (DESIGN.md invariant 2).
 */

let pool = Buffer.alloc(0);
let poolOffset = 0;
const RANDOM_BYTES = 8;

function randomPart(): string {
  // Reading the OS RNG once per token costs more than the rest of an invalidation; draw in batches.
  if (poolOffset + RANDOM_BYTES > pool.length) {
    pool = randomBytes(RANDOM_BYTES * 256);
    poolOffset = 0;
  }
  const part = pool.toString('base64url', poolOffset, poolOffset + RANDOM_BYTES);
  poolOffset += RANDOM_BYTES;
  return part;
}

/** A new, globally unique version token stamped with `now`. */
export function newToken(now: number = Date.now()): string {
  return `${now.toString(36)}.${randomPart()}`;
}

/** The time a token was minted, or `undefined` for a value that is not a token. */
export function tokenTime(token: string): number | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  const ms = parseInt(token.slice(0, dot), 36);
  return Number.isFinite(ms) ? ms : undefined;
}
