import { hasCacheTags, tagForType } from '../decorators/cache-tags.js';
import { rowTagsOrNone } from './tag-failures.js';
import { unknownRowsTags } from './query-tags.js';

type Row = Record<string, unknown>;

/** Type-level tags by class: every write asks, and a class's decorators have all run before its first write. */
const typeTags = new WeakMap<Function, readonly string[]>();

/**
 * The type-level tags of an entity class: its own, and those of its `@CacheTags` parents (a write
 * of a `Dog` row is also a write of an `Animal` row).
 */
export function typeTagsOf(cls: Function): string[] {
  const known = typeTags.get(cls);
  if (known) return [...known];
  const tags = [tagForType(cls)];
  for (let c: any = Object.getPrototypeOf(cls); c && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    if (hasCacheTags(c) && !tags.includes(tagForType(c))) tags.push(tagForType(c));
  }
  typeTags.set(cls, [...tags]);
  return tags;
}

/**
 * Everything one change of one row invalidates: the row tags of the old and of the new values,
 * and the class's type-level tags. `before`/`after` are objects shaped like the entity (the
 * integration merges a partial update over the old row before calling this); either may be absent.
 */
export function tagsOfChange(cls: Function, before: Row | undefined, after: Row | undefined): string[] {
  const tags = new Set(typeTagsOf(cls));
  for (const row of [before, after]) {
    if (row) for (const tag of rowTagsOrNone(cls, row)) tags.add(tag);
  }
  return [...tags];
}

/**
 * What a write of rows of `cls` that are not known (a bulk write, raw SQL, a cascade past
 * `cascadeDepth`) invalidates: the type-level tags and, with each, its rows-unknown tag, which
 * every precise cached query of the entity depends on (docs/query-cache.md).
 */
export function unknownRowsTagsOf(cls: Function): string[] {
  return unknownRowsTags(typeTagsOf(cls));
}
