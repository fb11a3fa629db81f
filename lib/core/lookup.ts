import { isStoredEntry, unique, type CacheParts, type Outcome } from './cache-parts.js';
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
    if (events.has('miss')) events.emit('miss', { key, reason: 'store-unavailable' });
    return undefined;
  }
  const versions = new Map<string, string>();
  for (let i = 0; i < tags.length; i++) {
    const token = rows[i + 1];
    if (typeof token === 'string') versions.set(tags[i], token);
  }
  const miss: Miss = { versions, sequence: rows[tags.length + 1] };
  const entry = rows[0];
  if (!isStoredEntry(entry)) {
    if (entry === UNDECODABLE) parts.report('decode', new Error(`the entry of "${key}" is not valid JSON`));
    if (events.has('miss')) events.emit('miss', { key, reason: entry === UNDECODABLE ? 'undecodable' : 'absent' });
    return miss;
  }
  const entryTags = Object.keys(entry.t);
  const unread = entryTags.filter((tag) => !tags.includes(tag));
  if (unread.length > 0) {
    // Tags learned by the computation that stored this entry: one more trip now, none next time.
    const more = await parts.versions.read(unread);
    if (!more) return undefined;
    for (const [tag, token] of more) versions.set(tag, token);
  }
  parts.remembered.note(key, entryTags, declared);
  let valid = true;
  for (const tag of declared) if (!(tag in entry.t)) valid = false;
  for (const tag of entryTags) if (versions.get(tag) !== entry.t[tag] || pending.has(tag)) valid = false;
  if (!valid) {
    if (events.has('miss')) events.emit('miss', { key, reason: 'invalidated' });
    return miss;
  }
  let value: unknown;
  try {
    value = parts.serializer.deserialize(entry.v);
  } catch (error) {
    parts.report('deserialize', error);
    if (events.has('miss')) events.emit('miss', { key, reason: 'undecodable' });
    return miss;
  }
  if (events.has('hit')) events.emit('hit', { key, tags: entryTags });
  return { value, versions: new Map(Object.entries(entry.t)), verifiable: true, computed: false };
}

/** Whether a lookup result is a hit. */
export function isHit(result: Outcome | Miss): result is Outcome {
  return 'value' in result;
}
