import { Collection, Reference, ReferenceKind, Utils, helper, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import { addCacheTags, currentScope } from '../core/tracking-scope.js';
import { collectionTag, loadedCollectionTags, relationTag } from '../orm/index.js';
import type { Row } from './rows.js';

/*
 * MikroORM's side of the collection tags (lib/orm/collection-tags.ts): which collections a row
 * is a member of (its many-to-one properties some one-to-many maps; for a pivot row, the
 * many-to-many collections of both entities it links), which
 * collections a loaded entity holds initialised, and the collections both sides of a many-to-many
 * link belong to. Worked out once per entity.
 */

interface Membership {
  owner: EntityMetadata;
  relation: string;
  prop: EntityProperty;
}

const memberships = new WeakMap<EntityMetadata, Membership[]>();

/** The pivot's foreign key held in `columns` (a many-to-many's join or inverse join columns). */
function pivotKey(pivot: EntityMetadata, columns: readonly string[] | undefined): EntityProperty | undefined {
  return pivot.props.find((p) => p.kind === ReferenceKind.MANY_TO_ONE && columns !== undefined && p.fieldNames?.join() === columns.join());
}

/**
 * A pivot row (an explicit `pivotEntity` or the implicit one) is a member of the collections of
 * both sides its foreign keys link: the owning many-to-many found from the entities it refers to.
 */
function pivotMemberships(pivot: EntityMetadata): Membership[] {
  const found: Membership[] = [];
  const seen = new Set<EntityProperty>();
  for (const fk of pivot.props) {
    if (fk.kind !== ReferenceKind.MANY_TO_ONE || !fk.targetMeta) continue;
    for (const m2m of fk.targetMeta.props) {
      if (m2m.kind !== ReferenceKind.MANY_TO_MANY || !m2m.owner || !m2m.targetMeta || seen.has(m2m) || Utils.className(m2m.pivotEntity) !== pivot.className) continue;
      seen.add(m2m);
      const ownerKey = pivotKey(pivot, m2m.joinColumns);
      const targetKey = pivotKey(pivot, m2m.inverseJoinColumns);
      if (ownerKey) found.push({ owner: fk.targetMeta, relation: m2m.name, prop: ownerKey });
      if (targetKey && m2m.inversedBy) found.push({ owner: m2m.targetMeta, relation: m2m.inversedBy, prop: targetKey });
    }
  }
  return found;
}

function membershipsOf(meta: EntityMetadata): Membership[] {
  let found = memberships.get(meta);
  if (found) return found;
  found = meta.pivotTable ? pivotMemberships(meta) : [];
  for (const prop of meta.props) {
    if (prop.kind !== ReferenceKind.MANY_TO_ONE || !prop.targetMeta) continue;
    for (const inverse of prop.targetMeta.props) {
      if (inverse.kind === ReferenceKind.ONE_TO_MANY && inverse.mappedBy === prop.name) found.push({ owner: prop.targetMeta, relation: inverse.name, prop });
    }
  }
  memberships.set(meta, found);
  return found;
}

/** The entities whose rows a row of `meta` links, when it is a pivot row; none otherwise. */
export function linkedEntities(meta: EntityMetadata): EntityMetadata[] {
  return meta.pivotTable ? [...new Set(membershipsOf(meta).map((m) => m.owner))] : [];
}

/** The primary key of an entity, a reference, an entity-shaped `{ id }`, or a raw key. */
function keyOf(meta: EntityMetadata, value: unknown): unknown {
  const target = Reference.isReference(value) ? value.unwrap() : value;
  if (target === null || typeof target !== 'object' || Array.isArray(target)) return target;
  const key = meta.primaryKeys.map((pk) => (target as Row)[pk]);
  return key.length === 1 ? key[0] : key;
}

/** The collections `rows` (old or new values) are members of. */
export function memberCollectionTags(meta: EntityMetadata, rows: readonly (Row | undefined)[]): string[] {
  const tags: string[] = [];
  for (const { owner, relation, prop } of membershipsOf(meta)) {
    for (const row of rows) {
      const tag = row && collectionTag(owner.class, keyOf(owner, row[prop.name]), relation);
      if (tag) tags.push(tag);
    }
  }
  return tags;
}

/** What a write of rows of `meta` that are not known invalidates of the collections: their relations' tags. */
export function memberRelationTags(meta: EntityMetadata): string[] {
  const tags = membershipsOf(meta).map((m) => relationTag(m.owner.class, m.relation));
  // A pivot row is a member of both sides' many-to-many collections.
  for (const prop of meta.props) if (prop.kind === ReferenceKind.MANY_TO_MANY) tags.push(...manyToManyRelationTags(meta, prop));
  return tags;
}

function inverseOf(prop: EntityProperty): string | undefined {
  return prop.inversedBy ?? prop.mappedBy;
}

function manyToManyRelationTags(meta: EntityMetadata, prop: EntityProperty): string[] {
  const inverse = inverseOf(prop);
  return [relationTag(meta.class, prop.name), ...(inverse && prop.targetMeta ? [relationTag(prop.targetMeta.class, inverse)] : [])];
}

/**
 * The collections a many-to-many change touches: the owner's, and the inverse collection of each
 * item linked or unlinked. `items` undefined: the unlinked items are unknown (a `set()` on a
 * collection never loaded), so the inverse side's relation tag stands in.
 */
export function linkCollectionTags(owner: object, prop: EntityProperty, items: readonly object[] | undefined): string[] {
  const meta = helper(owner).__meta as EntityMetadata;
  const tags = [collectionTag(meta.class, helper(owner).getPrimaryKey(), prop.name)];
  const inverse = inverseOf(prop);
  if (inverse && prop.targetMeta) {
    for (const item of items ?? []) tags.push(collectionTag(prop.targetMeta.class, keyOf(prop.targetMeta, item), inverse));
    if (!items) tags.push(relationTag(prop.targetMeta.class, inverse));
  }
  return tags.filter((tag): tag is string => tag !== undefined);
}

function isToMany(prop: EntityProperty): boolean {
  return prop.kind === ReferenceKind.ONE_TO_MANY || prop.kind === ReferenceKind.MANY_TO_MANY;
}

/** The collections a loaded entity holds initialised (populated with it), empty ones included. */
export function heldCollectionTags(entity: object, meta: EntityMetadata): string[] {
  const tags: string[] = [];
  for (const prop of meta.props) {
    const coll = (entity as Record<string, unknown>)[prop.name];
    if (isToMany(prop) && coll instanceof Collection && coll.isInitialized()) tags.push(...loadedCollectionTags(meta.class, helper(entity).getPrimaryKey(), prop.name));
  }
  return tags;
}

const HOOKED = Symbol('cache-tags mikro-orm collection init');

type CollectionMethod = (this: Collection<object>, ...args: unknown[]) => unknown;

/**
 * Collections initialised without a load event for their owner, wrapped so that one initialised
 * inside a cached computation adds its tags: `init()` (and `load()`, `loadItems()`, which call it),
 * and `hydrate()`, by which a populate that selects the members in a query of their own
 * (`select-in`, for to-many relations the default of MikroORM 7's `balanced` strategy) fills the
 * collection. That query dispatches the `onLoad` of the owner before the collection is filled, so
 * the owner's `onLoad` finds it uninitialised. `tracks(owner)` says whether the owner's ORM tracks
 * loads. Process-wide, idempotent.
 */
export function coverCollectionInit(tracks: (owner: object) => boolean): void {
  const proto = Collection.prototype as unknown as Record<PropertyKey, unknown>;
  if (proto[HOOKED]) return;
  proto[HOOKED] = true;
  for (const name of ['init', 'hydrate']) {
    const original = proto[name] as CollectionMethod | undefined;
    if (typeof original !== 'function') continue;
    proto[name] = function (this: Collection<object>, ...args: unknown[]): unknown {
      if (currentScope() && isToMany(this.property) && tracks(this.owner)) {
        const meta = helper(this.owner).__meta as EntityMetadata;
        const tags = loadedCollectionTags(meta.class, helper(this.owner).getPrimaryKey(), this.property.name);
        if (tags.length) addCacheTags(...tags);
      }
      return original.apply(this, args);
    };
  }
}
