import { ReferenceKind, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import { tagsOfChange, typeTagsOf, unknownRowsTagsOf } from '../orm/index.js';
import { linkedEntities, memberCollectionTags, memberRelationTags } from './collections.js';
import { fieldTagsOf } from './query-cache-fields.js';

/** One row of an entity, keyed by property name. */
export type Row = Record<string, unknown>;

/** Whether the property holds the foreign key of a to-one relation (the side with the column). */
export function holdsForeignKey(prop: EntityProperty): boolean {
  return prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && !!prop.owner);
}

/** An object shaped like the related entity as far as a foreign key tells: its primary key. */
function referenceTo(prop: EntityProperty, key: unknown): Row {
  const pks = prop.targetMeta?.primaryKeys ?? prop.referencedPKs ?? ['id'];
  const values = Array.isArray(key) ? key : [key];
  return Object.fromEntries(pks.map((pk, i) => [pk, values[i]]));
}

/**
 * MikroORM hands out rows in database shape (a foreign key is the raw primary key: `{ user: 3 }`);
 * tag functions are written against the entity (`photo.user.id`). This turns a database-shaped row,
 * keyed by property name, into that shape: each to-one relation becomes an object holding the
 * related primary key. Values that are objects already (entities, references) are kept.
 */
export function entityShaped(meta: EntityMetadata, row: Row): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) {
    const prop = meta.properties[key] as EntityProperty | undefined;
    const raw = value !== null && value !== undefined && (typeof value !== 'object' || Array.isArray(value));
    out[key] = prop && holdsForeignKey(prop) && raw ? referenceTo(prop, value) : value;
  }
  return out;
}

/** A row keyed by column name (as a query builder holds its data) re-keyed by property name. */
export function propertiesOf(meta: EntityMetadata, row: Row): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) {
    const prop = meta.properties[key] as EntityProperty | undefined;
    const byColumn = prop ? undefined : meta.props.find((p) => p.fieldNames?.length === 1 && p.fieldNames[0] === key);
    out[prop ? key : (byColumn?.name ?? key)] = value;
  }
  return out;
}

/**
 * What a pivot row's write changes for the query cache and the entities it links: which of their
 * rows match a condition through the relation. The pivot row holds the two keys only, not the
 * values such a condition compares (`{ labels: { name } }`), so both sides' type-level and
 * rows-unknown tags stand in, as for a raw write of the pivot table (and as TypeORM does for an
 * entity mapped onto a junction table).
 */
function linkedQueryTags(meta: EntityMetadata): string[] {
  return linkedEntities(meta).flatMap((side) => unknownRowsTagsOf(side.class));
}

/**
 * The tags of a set of rows of one entity (old or new values alike, entity-shaped) plus its
 * type-level tags, the tags of the collections the rows are members of, and the query cache's
 * field tags of the rows' condition fields. With no rows it is the type-level tags and those
 * collections' relation tags.
 */
export function tagsOfRows(meta: EntityMetadata, rows: Iterable<Row | undefined>): string[] {
  const cls = meta.class as Function;
  const types = typeTagsOf(cls);
  const tags = new Set(types);
  const known = [...rows].filter((row): row is Row => row !== undefined);
  for (const row of known) for (const tag of tagsOfChange(cls, row, undefined)) tags.add(tag);
  for (const tag of known.length > 0 ? memberCollectionTags(meta, known) : memberRelationTags(meta)) tags.add(tag);
  for (const tag of fieldTagsOf(meta, types, known)) tags.add(tag);
  for (const tag of linkedQueryTags(meta)) tags.add(tag);
  return [...tags];
}

/**
 * What a write of rows of `meta` that are not known invalidates: the type-level tags and their
 * rows-unknown tags, which every precise cached query of the entity depends on, and the relation
 * tags of the collections its rows are members of.
 */
export function unknownRowTags(meta: EntityMetadata): string[] {
  return [...unknownRowsTagsOf(meta.class), ...memberRelationTags(meta), ...linkedQueryTags(meta)];
}

/**
 * The tags of an update (with its `change`) or a delete by a condition, from the rows it matched
 * before it ran: old and new values of each; when they were too many to read (`undefined`), the
 * tags of rows that are not known.
 */
export function tagsOfBulkWrite(meta: EntityMetadata, matched: Row[] | undefined, change?: Row): string[] {
  if (!matched) return unknownRowTags(meta);
  return tagsOfRows(meta, change ? [...matched, ...matched.map((row) => ({ ...row, ...change }))] : matched);
}

/** The primary key value(s) of a row: a scalar, or an array for a composite key. */
export function primaryKeyOf(meta: EntityMetadata, row: Row): unknown {
  const values = meta.primaryKeys.map((pk) => {
    const value = row[pk];
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Row)[Object.keys(value)[0]] : value;
  });
  return values.length === 1 ? values[0] : values;
}
