import { tagForType } from '../decorators/cache-tags.js';

/*
 * Collection tags: one tag per to-many collection of one owner row, `<Owner>:<id>.<relation>`
 * (`Article:5.comments`). A cached computation that loads a collection (even an empty one) depends
 * on it; every write that adds a member to it, removes one, or moves one between owners (the
 * member's foreign key, a junction row) invalidates it, on the old owner and the new. So "the
 * comments of article 5" is invalidated by a new comment of article 5 with no tag written by hand,
 * and not by a comment of article 7.
 *
 * A write whose rows are unknown (a bulk write past `maxRowsPerWrite`, raw SQL) cannot name the
 * owners it touched: it invalidates the relation's tag `<Owner>.<relation>` instead, which every
 * load of such a collection also depends on. The type-level tag of the member entity is never
 * needed for that, so a collection stays precise for the writes whose rows are known.
 */

/** How an owner's primary key reads in a tag: a scalar as is, a composite key as JSON. */
function idText(id: unknown): string {
  if (Array.isArray(id)) return id.length === 1 ? idText(id[0]) : JSON.stringify(id.map((part) => (typeof part === 'bigint' ? String(part) : part)));
  return typeof id === 'object' && id !== null ? JSON.stringify(id) : String(id);
}

/** Whether `id` names a row: no part of it is missing. */
function present(id: unknown): boolean {
  return Array.isArray(id) ? id.length > 0 && id.every(present) : id !== undefined && id !== null;
}

/**
 * The tag of the collection `relation` of the `owner` row whose primary key is `id` (a value, or
 * the values of a composite key in order); none when the id is missing (a row not yet inserted).
 */
export function collectionTag(owner: Function, id: unknown, relation: string): string | undefined {
  return present(id) ? `${tagForType(owner)}:${idText(id)}.${relation}` : undefined;
}

/** The tag of every collection `relation` of `owner` rows: what a write whose rows are unknown invalidates. */
export function relationTag(owner: Function, relation: string): string {
  return `${tagForType(owner)}.${relation}`;
}

/** The tags a load of the collection `relation` of the `owner` row `id` depends on. */
export function loadedCollectionTags(owner: Function, id: unknown, relation: string): string[] {
  const tag = collectionTag(owner, id, relation);
  return tag ? [tag, relationTag(owner, relation)] : [];
}
