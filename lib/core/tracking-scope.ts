import { AsyncLocalStorage } from 'node:async_hooks';
import { CacheTagsError } from './errors.js';

/** Reads (minting where missing) the current versions of tags; `undefined` when the store did not answer. */
export type VersionCapture = (tags: string[]) => Promise<ReadonlyMap<string, string> | undefined>;

/**
 * What one computation depends on. Declared tags carry the versions captured before the
 * computation read anything. Learned tags carry a version captured before their data was read
 * (a nested cached call, {@link dependOn}) or none yet (`addCacheTags`, tracked loads): those are
 * judged when the computation ends, by the ordering the store provides.
 */
export class TrackingScope {
  /** Tags captured before the computation, with their versions. */
  readonly declared: ReadonlyMap<string, string>;
  /** Tags learned during the computation; `undefined` while the version is still unknown. */
  readonly learned = new Map<string, string | undefined>();
  /** Set when one tag was seen with two different versions: the value mixes generations. */
  mixedVersions = false;

  constructor(
    /** The store the versions belong to: versions from another store are learned by name only. */
    readonly owner: object,
    declared: ReadonlyMap<string, string>,
    /** Captures versions in the owner's store, for {@link dependOn}. */
    readonly capture: VersionCapture,
  ) {
    this.declared = declared;
  }

  /** Records that the computation depends on `tag`, at `version` when known. */
  learn(tag: string, version: string | undefined, owner: object): void {
    const known = owner === this.owner ? version : undefined;
    const declared = this.declared.get(tag);
    if (declared !== undefined) {
      if (known !== undefined && known !== declared) this.mixedVersions = true;
      return;
    }
    const previous = this.learned.get(tag);
    if (previous !== undefined && known !== undefined && previous !== known) this.mixedVersions = true;
    if (previous === undefined) this.learned.set(tag, known);
  }
}

const storage = new AsyncLocalStorage<TrackingScope>();

/** The scope of the innermost computation running in this async context, if any. */
export function currentScope(): TrackingScope | undefined {
  return storage.getStore();
}

/** Runs `fn` as a computation tracked by `scope`. */
export function runInScope<T>(scope: TrackingScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/**
 * Adds tags to the cached computation that is running now (and, through it, to every enclosing
 * one): use it for dependencies that only the computation itself discovers. Outside a cached
 * computation it does nothing.
 * @public
 */
export function addCacheTags(...tags: string[]): void {
  assertTags(tags, 'addCacheTags');
  const scope = storage.getStore();
  if (!scope) return;
  for (const tag of tags) scope.learn(tag, undefined, scope.owner);
}

/**
 * Declares tags that the running cached computation depends on, found only now but *before* it
 * reads the data they cover: their versions are captured at once, so they count as declared and
 * need no judgement when the computation ends (unlike {@link addCacheTags}, which may come after
 * the data was read). Outside a cached computation it does nothing.
 *
 * @example
 * ```ts
 * await dependOn(`User_${userId}_photos`);
 * return repo.findBy({ userId }); // read after the version was captured
 * ```
 * @public
 */
export async function dependOn(...tags: string[]): Promise<void> {
  assertTags(tags, 'dependOn');
  const scope = storage.getStore();
  if (!scope || tags.length === 0) return;
  const versions = await scope.capture(tags);
  for (const tag of tags) scope.learn(tag, versions?.get(tag), scope.owner);
}

/** Throws a clear error unless `tags` is an array of non-empty strings. */
export function assertTags(tags: unknown, where: string): asserts tags is string[] {
  if (!Array.isArray(tags)) {
    throw new CacheTagsError('E_INVALID_TAG', `${where}: tags must be an array of strings, got ${describe(tags)}`);
  }
  for (let index = 0; index < tags.length; index++) {
    const tag: unknown = tags[index];
    if (typeof tag !== 'string' || tag.length === 0) {
      throw new CacheTagsError('E_INVALID_TAG', `${where}: tag ${index} must be a non-empty string, got ${describe(tag)}`);
    }
  }
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value}"`;
  if (typeof value === 'object') return `an object (${(value).constructor?.name ?? 'null prototype'})`;
  if (typeof value === 'function') return `a function (${value.name || 'anonymous'})`;
  if (typeof value === 'symbol') return value.toString();
  return `${typeof value} ${value as string}`;
}
