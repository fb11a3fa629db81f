import { isStoredEntry, unique, type CacheParts, type Outcome, type StoredEntry } from './cache-parts.js';
import { recordMiss } from './outcomes.js';
import type { NearCache } from './near-cache.js';
import { UNDECODABLE, decodeRow } from './store-driver.js';

/** A lookup that found no valid entry: what a computation needs to start. */
export interface Miss {
  /** Versions of the declared tags that have one, read before the source runs. */
  versions: Map<string, string>;
  /** The namespace's invalidation sequence, read in the same round trip (ordered stores, before a computation). */
  sequence: unknown;
}

/** What a lookup finds: the hit, a {@link Miss}, or `undefined` when the store did not answer. */
export type Found = Outcome | Miss | undefined;

const hasOwn = (object: object, key: string): boolean => Object.prototype.hasOwnProperty.call(object, key);

/**
 * One round trip for the entry, the versions of its declared and remembered tags and (on an
 * ordered store, when a computation may follow a miss: `computes`) the invalidation sequence; what
 * it found is handed to `then` as the store answers (no step of its own in between). A hit the near
 * cache holds needs no round trip at all. On an in-process store a hit is handed on at once, so that
 * it costs no promise at all, and anything else a tick later, as a remote store would: whoever waits
 * on the lookup (a single flight) is then in place before a computation starts.
 */
export function lookup<T>(parts: CacheParts, key: string, entryKey: string, declared: readonly string[], computes: boolean, then: (found: Found) => T | Promise<T>): T | Promise<T> {
  const { keys, gateway } = parts;
  if (parts.near) {
    const hit = nearHit(parts, parts.near, key, entryKey, declared);
    if (hit) return then(hit);
  }
  const remembered = parts.remembered.get(key);
  const tags = remembered ? unique([...declared, ...remembered]) : declared;
  const storeKeys = [entryKey];
  for (const tag of tags) storeKeys.push(keys.tag(tag));
  // Only a computation's judgement of late tags needs it: `get` never computes.
  if (computes && parts.versions.ordered) storeKeys.push(keys.sequence);
  if (gateway.local) {
    const found = judge(parts, key, declared, tags, remembered !== undefined, gateway.readNow(storeKeys));
    if (found && !(found instanceof Promise) && isHit(found)) return then(found);
    return Promise.resolve(found).then(then);
  }
  return gateway.read(storeKeys, (rows) => {
    const found = judge(parts, key, declared, tags, remembered !== undefined, rows);
    return found instanceof Promise ? found.then(then) : then(found);
  });
}

/** Whether a lookup result is a hit. */
export function isHit(result: Outcome | Miss): result is Outcome {
  return 'value' in result;
}

/** Judges the rows of a lookup: the entry is valid if every version it carries is still current. */
function judge(parts: CacheParts, key: string, declared: readonly string[], tags: readonly string[], remembered: boolean, rows: unknown[] | undefined): Found | Promise<Found> {
  if (!rows) {
    recordMiss(parts, key, 'store-unavailable');
    return undefined;
  }
  const entry = rows[0];
  if (!isStoredEntry(entry)) {
    if (entry === UNDECODABLE) parts.report('decode', new Error(`the entry of "${key}" is not valid JSON`));
    recordMiss(parts, key, entry === UNDECODABLE ? 'undecodable' : 'absent');
    return missOf(tags, rows);
  }
  const stored = entry.t;
  let valid = true;
  for (let i = 0; i < tags.length && valid; i++) {
    const tag = tags[i];
    if (hasOwn(stored, tag) ? rows[i + 1] !== stored[tag] : i < declared.length) valid = false;
  }
  const entryTags = Object.keys(stored);
  if (entryTags.length !== tags.length || remembered) {
    const unread = entryTags.filter((tag) => !tags.includes(tag));
    if (unread.length > 0) {
      // Tags learned by the computation that stored this entry: one more trip now, none next time.
      return parts.versions.read(unread).then((more) => {
        if (!more) {
          recordMiss(parts, key, 'store-unavailable');
          return undefined;
        }
        for (const tag of unread) if (more.get(tag) !== stored[tag]) valid = false;
        parts.remembered.note(key, entryTags, declared);
        return serve(parts, key, tags, rows, entry, entryTags, valid);
      });
    }
    parts.remembered.note(key, entryTags, declared);
  }
  return serve(parts, key, tags, rows, entry, entryTags, valid);
}

/**
 * The hit the near cache holds, or `undefined`, silently: then the lookup goes to the store, which
 * judges (and counts, and reports) as if there were no near cache. Every tag of the entry is checked
 * against the version held here, so no tag needs remembering.
 */
function nearHit(parts: CacheParts, near: NearCache, key: string, entryKey: string, declared: readonly string[]): Outcome | undefined {
  const row = near.entry(entryKey);
  if (row === undefined || !near.serving()) return undefined;
  const entry = decodeRow(row, Date.now());
  if (!isStoredEntry(entry)) return undefined;
  const stored = entry.t;
  for (const tag of declared) if (!hasOwn(stored, tag)) return undefined;
  const entryTags = Object.keys(stored);
  for (const tag of entryTags) if (near.token(parts.keys.tag(tag)) !== stored[tag]) return undefined;
  if (pendingAmong(parts, entryTags)) return undefined;
  let value: unknown;
  try {
    value = parts.serializer.deserialize(entry.v);
  } catch {
    return undefined;
  }
  parts.counters.nearHits++;
  return hitOf(parts, key, value, entry, entryTags);
}

/** Whether one of `tags` is being invalidated by this process (or failed to be). */
function pendingAmong(parts: CacheParts, tags: readonly string[]): boolean {
  const { pending } = parts;
  if (pending.size > 0 || pending.busy) for (const tag of tags) if (pending.has(tag)) return true;
  return false;
}

function hitOf(parts: CacheParts, key: string, value: unknown, entry: StoredEntry, entryTags: string[]): Outcome {
  if (parts.events.has('hit')) parts.events.emit('hit', { key, tags: entryTags });
  return { value, versions: entry.t, verifiable: true, computed: false };
}

/** The hit, unless a version did not match or one of the entry's tags is being invalidated here. */
function serve(parts: CacheParts, key: string, tags: readonly string[], rows: unknown[], entry: StoredEntry, entryTags: string[], valid: boolean): Found {
  if (valid && pendingAmong(parts, entryTags)) valid = false;
  if (!valid) {
    recordMiss(parts, key, 'invalidated');
    return missOf(tags, rows);
  }
  let value: unknown;
  try {
    value = parts.serializer.deserialize(entry.v);
  } catch (error) {
    parts.report('deserialize', error);
    recordMiss(parts, key, 'undecodable');
    return missOf(tags, rows);
  }
  return hitOf(parts, key, value, entry, entryTags);
}

/** The versions a lookup read, for the computation that follows a miss. */
function missOf(tags: readonly string[], rows: unknown[]): Miss {
  const versions = new Map<string, string>();
  for (let i = 0; i < tags.length; i++) {
    const token = rows[i + 1];
    if (typeof token === 'string') versions.set(tags[i], token);
  }
  return { versions, sequence: rows[tags.length + 1] };
}
