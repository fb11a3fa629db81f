import type { EntityMetadata } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import type { RelationMetadata } from 'typeorm/metadata/RelationMetadata.js';
import { collectionTag, loadedCollectionTags, relationTag } from '../orm/index.js';
import type { Row } from './rows.js';

/*
 * TypeORM's side of the collection tags (lib/orm/collection-tags.ts): which collections a row is a
 * member of (its many-to-one relations whose inverse is a one-to-many; the junction rows of a
 * many-to-many, and the rows of an entity of its own mapped onto a junction table), and which
 * collections a loaded entity holds. Worked out once per entity.
 */

/** One collection a row of an entity belongs to, through foreign-key columns of its own. */
interface Membership {
  owner: Function;
  relation: string;
  columns: readonly ColumnMetadata[];
}

const memberships = new WeakMap<EntityMetadata, Membership[]>();

function ownerClass(metadata: EntityMetadata): Function | undefined {
  return typeof metadata.target === 'function' ? metadata.target : undefined;
}

/** The owning relation of a junction table, and the columns that point at each side. */
function junctionRelation(junction: EntityMetadata): RelationMetadata | undefined {
  const owner = junction.ownerColumns[0]?.referencedColumn?.entityMetadata;
  return owner?.manyToManyRelations.find((r) => r.junctionEntityMetadata === junction);
}

const mappedJunctions = new WeakMap<EntityMetadata, EntityMetadata | null>();

/**
 * The junction of a many-to-many whose table `metadata`, an entity of its own, is mapped onto
 * (`@Entity('post_tags_tag') class PostTag` beside `@JoinTable() tags`): TypeORM gives that entity
 * metadata apart from the junction's, so its writes reach no junction hook.
 */
export function mappedJunction(metadata: EntityMetadata): EntityMetadata | undefined {
  if (metadata.isJunction) return undefined;
  let found = mappedJunctions.get(metadata);
  if (found === undefined) {
    found = metadata.connection.entityMetadatas.find((m) => m.isJunction && m.tablePath === metadata.tablePath) ?? null;
    mappedJunctions.set(metadata, found);
  }
  return found ?? undefined;
}

/** The collections of both sides a junction's row is a member of, through the columns `columnIn` maps the junction's onto. */
function junctionMemberships(junction: EntityMetadata, columnIn: (column: ColumnMetadata) => ColumnMetadata | undefined): Membership[] {
  const found: Membership[] = [];
  const relation = junctionRelation(junction);
  const inverse = relation?.inverseRelation;
  for (const [side, columns] of [[relation, junction.ownerColumns], [inverse, junction.inverseColumns]] as const) {
    const owner = side && ownerClass(side.entityMetadata);
    const own = columns.map(columnIn);
    if (side && owner && own.every(Boolean)) found.push({ owner, relation: side.propertyName, columns: own as ColumnMetadata[] });
  }
  return found;
}

function membershipsOf(metadata: EntityMetadata): Membership[] {
  let found = memberships.get(metadata);
  if (found) return found;
  const junction = metadata.isJunction ? metadata : mappedJunction(metadata);
  // An entity mapped onto a junction table holds the same links, in its own columns of the same names.
  found = junction ? junctionMemberships(junction, (column) => metadata.columns.find((c) => c.databaseName === column.databaseName)) : [];
  if (!metadata.isJunction) {
    for (const relation of metadata.manyToOneRelations) {
      const inverse = relation.inverseRelation;
      const owner = inverse?.isOneToMany ? ownerClass(inverse.entityMetadata) : undefined;
      if (inverse && owner) found.push({ owner, relation: inverse.propertyName, columns: relation.joinColumns });
    }
  }
  memberships.set(metadata, found);
  return found;
}

/** A foreign key's value in a row: one value, or the values of a composite key. */
function keyIn(columns: readonly ColumnMetadata[], row: Row): unknown {
  // Junction links come keyed by junction column, entity rows by property (a relation's as an object).
  const values = columns.map((column) => column.getEntityValue(row) ?? row[column.propertyName]);
  return values.length === 1 ? values[0] : values;
}

/** The collections `rows` (old or new values, or junction links) are members of. */
export function memberCollectionTags(metadata: EntityMetadata, rows: readonly (Row | undefined)[]): string[] {
  const tags: string[] = [];
  for (const membership of membershipsOf(metadata)) {
    for (const row of rows) {
      const tag = row && collectionTag(membership.owner, keyIn(membership.columns, row), membership.relation);
      if (tag) tags.push(tag);
    }
  }
  return tags;
}

/** What a write of rows of `metadata` that are not known invalidates of the collections: their relations' tags. */
export function memberRelationTags(metadata: EntityMetadata): string[] {
  return membershipsOf(metadata).map((m) => relationTag(m.owner, m.relation));
}

/** The collections a loaded entity holds (to-many relations loaded with it, empty ones included). */
export function heldCollectionTags(metadata: EntityMetadata, entity: object): string[] {
  const owner = ownerClass(metadata);
  if (!owner) return [];
  const tags: string[] = [];
  for (const relation of metadata.relations) {
    if (!(relation.isOneToMany || relation.isManyToMany) || relation.isLazy) continue;
    if (!Array.isArray(relation.getEntityValue(entity))) continue;
    tags.push(...loadedCollectionTags(owner, keyIn(metadata.primaryColumns, entity as Row), relation.propertyName));
  }
  return tags;
}

/** The collection a lazy relation loads for each of `entities`. */
export function lazyCollectionTags(relation: RelationMetadata, entities: readonly object[]): string[] {
  const owner = ownerClass(relation.entityMetadata);
  if (!owner || !(relation.isOneToMany || relation.isManyToMany)) return [];
  return entities.flatMap((entity) => loadedCollectionTags(owner, keyIn(relation.entityMetadata.primaryColumns, entity as Row), relation.propertyName));
}
