import { isStoredEntry, unique, type CacheParts, type Outcome } from './cache-parts.js';
import { recordMiss } from './outcomes.js';
import { UNDECODABLE } from './store-driver.js';

/** A lookup that found no valid entry: what a computation needs to start. */
export interface Miss {
  /** Versions of the declared tags that have one, read before the source runs. */
  versions: Map<string, string>;
  /** The namespace's invalidation sequence, read in the same round trip (ordered stores). */
  sequence: unknown;
}

/**
 * One round trip for the entry, the versions of its declared and remembered tags and (on an
 * ordered store) the invalidation sequence. Resolves the hit, a {@link Miss}, or `undefined` when
 * the store did not answer.
 */
export async function lookup(parts: CacheParts, key: string, entryKey: string, declared: readonly string[]): Promise<Outcome | Miss | undefined> {
  const { keys, events, pending } = parts;
  const remembered = parts.remembered.get(key);
  const tags = remembered ? unique([...declared, ...remembered]) : declared;
  const storeKeys = [entryKey];
  for (const tag of tags) storeKeys.push(keys.tag(tag));
  if (parts.versions.ordered) storeKeys.push(keys.sequence);
  const rows = await parts.gateway.read(storeKeys);
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
  const has = (tag: string): boolean => Object.prototype.hasOwnProperty.call(stored, tag);
  let valid = true;
  for (let i = 0; i < tags.length; i++) {
    const tag = tags[i];
    if (has(tag) ? rows[i + 1] !== stored[tag] : i < declared.length) valid = false;
  }
  const entryTags = Object.keys(stored);
  if (entryTags.length !== tags.length || remembered) {
    const unread = entryTags.filter((tag) => !tags.includes(tag));
    if (unread.length > 0) {
      // Tags learned by the computation that stored this entry: one more trip now, none next time.
      const more = await parts.versions.read(unread);
      if (!more) {
        recordMiss(parts, key, 'store-unavailable');
        return undefined;
      }
      for (const tag of unread) if (more.get(tag) !== stored[tag]) valid = false;
    }
    parts.remembered.note(key, entryTags, declared);
  }
  if (pending.size > 0 || pending.busy) for (const tag of entryTags) if (pending.has(tag)) valid = false;
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
  if (events.has('hit')) events.emit('hit', { key, tags: entryTags });
  return { value, versions: stored, verifiable: true, computed: false };
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

/** Whether a lookup result is a hit. */
export function isHit(result: Outcome | Miss): result is Outcome {
  return 'value' in result;
}
