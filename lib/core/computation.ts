import type { CacheParts, Outcome, StoredEntry } from './cache-parts.js';
import type { TagCacheEvents } from './events.js';
import type { Miss } from './lookup.js';
import { recordNotStored, recordStored } from './outcomes.js';
import { serializeFor } from './serializer.js';
import { anyHeld } from './tokens.js';
import { TrackingScope, assertTags, runInScope } from './tracking-scope.js';

type Unstorable = TagCacheEvents['stale']['reason'];

/**
 * Runs the source after a miss, inside a tracking scope, and stores its value unless it may
 * already be stale:
 * 1. the versions of the declared tags were read by the lookup, before the source runs; the ones
 *    missing are written now, still before it runs (writing one later could overwrite an
 *    invalidation that lands meanwhile);
 * 2. the source runs; nested cached calls and {@link dependOn} bring versions captured before
 *    their data was read, `addCacheTags`, tracked loads and `resultTags` (run on the value) bring
 *    tags without one;
 * 3. the versions of those tags are read (minted where missing) and judged: each must predate the
 *    computation's start by the store's ordering, else the value is returned but not stored; so is
 *    a value with any held version (another process is about to invalidate the tag);
 * 4. the entry is written with every version: an invalidation that landed during the computation
 *    makes it dead on arrival.
 * `miss` is `undefined` when the store did not answer the lookup: the value is then the caller's
 * alone.
 */
export async function compute(
  parts: CacheParts,
  key: string,
  entryKey: string,
  fn: () => unknown,
  entry: ComputedEntry,
  miss: Miss | undefined,
  onSourceStart: () => void,
): Promise<Outcome> {
  const { versions } = parts;
  const { declared, ttl } = entry;
  let answered = miss !== undefined;
  const captured = new Map<string, string>();
  const missing: string[] = [];
  for (const tag of declared) {
    const token = miss?.versions.get(tag);
    if (token === undefined) missing.push(tag);
    else captured.set(tag, token);
  }
  let mintedAt: number | undefined;
  if (answered && missing.length > 0) {
    const minted = await versions.capture(missing);
    if (minted) for (const [tag, token] of minted) captured.set(tag, token);
    else answered = false;
    mintedAt = minted?.sequence;
  } else if (answered && versions.ordered && typeof miss?.sequence !== 'number') {
    // Without a sequence read before the source runs, no tag learned late could be judged, so none stored.
    mintedAt = await versions.sequence();
  }
  const mark = versions.startMark(miss?.sequence, mintedAt);
  const scope = new TrackingScope(parts.owner, answered ? captured : new Map(), (tags) => versions.capture(tags));
  onSourceStart();
  const value = await runInScope(scope, fn);
  const tagsFailure = entry.resultTags && learnResultTags(parts, scope, key, value, entry.resultTags);
  const data = serializeFor(parts.serializer, value, `cache key "${key}"`);

  const late = [...scope.learned.keys()].filter((tag) => scope.learned.get(tag) === undefined);
  let lateVersions: Map<string, string> | undefined = new Map();
  if (answered && late.length > 0) {
    lateVersions = await versions.capture(late);
    if (!lateVersions) answered = false;
  }

  const reason = tagsFailure ? 'result-tags-failed' : unstorableReason(parts, scope, late, lateVersions, mark, answered);
  if (reason) {
    recordNotStored(parts, key, reason, tagsFailure?.error);
    /*
     * Learned tags go up without a version: an enclosing computation must judge them itself, as its
     * own, since this value may mix generations or predate one of them.
     */
    const known = new Map<string, string | undefined>(declared.map((tag) => [tag, answered ? captured.get(tag) : undefined]));
    for (const tag of scope.learned.keys()) known.set(tag, undefined);
    return { value, versions: Object.fromEntries(known), verifiable: false, computed: true };
  }
  // Built as a Map: assigning a tag named "__proto__" to an object would set its prototype.
  const versionsOf = new Map<string, string>(scope.declared);
  for (const [tag, token] of scope.learned) versionsOf.set(tag, token ?? lateVersions!.get(tag)!);
  const all: Record<string, string> = Object.fromEntries(versionsOf);
  const stored: StoredEntry = { v: data, t: all, a: Date.now() };
  if (await parts.gateway.write([{ key: entryKey, value: stored, ttl: ttl || undefined }])) {
    const tags = Object.keys(all);
    parts.remembered.note(key, tags, declared);
    recordStored(parts, key, tags, ttl || undefined);
  }
  return { value, versions: all, verifiable: true, computed: true };
}

/** What {@link compute} stores a value under. */
export interface ComputedEntry {
  /** Tags declared before the computation (their versions are read first). */
  declared: readonly string[];
  /** Tags derived from the value, learned when it is there. */
  resultTags: ((value: unknown) => readonly string[]) | undefined;
  ttl: number;
}

/**
 * Adds the tags `resultTags` derives from the value to the computation, as learned tags (judged
 * like tracked loads). When the function fails, the failure is reported and returned: the value
 * must not be stored, since what it depends on is unknown.
 */
function learnResultTags(parts: CacheParts, scope: TrackingScope, key: string, value: unknown, resultTags: (value: unknown) => readonly string[]): { error: unknown } | undefined {
  try {
    const tags = resultTags(value);
    assertTags(tags, `resultTags of cache key "${key}"`);
    for (const tag of tags) scope.learn(tag, undefined, parts.owner);
    return undefined;
  } catch (error) {
    parts.log.error(`cache-tags: the resultTags function of cache key "${key}" failed; the value was returned but not stored`, error);
    return { error };
  }
}

function unstorableReason(
  parts: CacheParts,
  scope: TrackingScope,
  late: readonly string[],
  lateVersions: Map<string, string> | undefined,
  mark: number | undefined,
  answered: boolean,
): Unstorable | undefined {
  if (!answered || !lateVersions) return 'store-unavailable';
  if (scope.mixedVersions) return 'mixed-versions';
  // A held version predates nothing: a late tag held meanwhile counts as invalidated during the computation.
  for (const tag of late) if (!parts.versions.predates(lateVersions.get(tag)!, mark)) return 'invalidated-during-computation';
  for (const tag of scope.declared.keys()) if (parts.pending.has(tag)) return 'invalidation-pending';
  for (const tag of scope.learned.keys()) if (parts.pending.has(tag)) return 'invalidation-pending';
  // Pending elsewhere: another process is invalidating the tag.
  if (anyHeld(scope.declared.values()) || anyHeld(scope.learned.values())) return 'invalidation-pending';
  return undefined;
}
