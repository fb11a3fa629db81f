import type { DataSource, EntityMetadata, QueryRunner } from 'typeorm';
import { tagsOfChange, typeTagsOf, unknownRowsTags } from '../orm/index.js';
import { mappedJunction, memberCollectionTags, memberRelationTags } from './collections.js';
import { fieldTagsOf } from './query-cache-fields.js';
import { entityRow, keyOf, rowsByKeys, type Row } from './rows.js';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';

/** The type-level tags of the entity behind `metadata` (an EntitySchema entity: its name). */
export function metadataTypeTags(metadata: EntityMetadata): string[] {
  if (metadata.isJunction) return junctionSides(metadata).flatMap((side) => metadataTypeTags(side.metadata));
  return typeof metadata.target === 'function' ? typeTagsOf(metadata.target) : [metadata.targetName];
}

/**
 * What a write of `metadata` rows that are not known invalidates: the type-level tags, their
 * rows-unknown tags (docs/query-cache.md), and the relation tags of the collections the rows belong
 * to (docs/orm-contract.md, "Collection tags").
 */
export function unknownRowTags(metadata: EntityMetadata): string[] {
  return [...unknownRowsTags(metadataTypeTags(metadata)), ...memberRelationTags(metadata), ...linkedQueryTags(metadata)];
}

/**
 * What a write of an entity mapped onto a junction table changes for the query cache and the
 * entities it links: which of their rows match a condition through the relation. Its rows hold the
 * two keys only, not the values such a condition compares (`{ tags: { name } }`), so both sides'
 * type-level and rows-unknown tags stand in, as for a raw write of the junction table.
 */
function linkedQueryTags(metadata: EntityMetadata): string[] {
  const junction = mappedJunction(metadata);
  return junction ? unknownRowsTags(metadataTypeTags(junction)) : [];
}

/**
 * The tags that a change of `rows` (old rows, new rows: any mix) invalidates, type-level tags
 * included, the query cache's field tags of the rows' condition fields, and the tags of the
 * collections the rows are members of (with no row known, those collections' relation tags).
 */
export function rowTags(metadata: EntityMetadata, rows: readonly (Row | undefined)[]): string[] {
  const types = metadataTypeTags(metadata);
  const tags = new Set(types);
  if (typeof metadata.target === 'function') {
    for (const row of rows) if (row) for (const tag of tagsOfChange(metadata.target, row, undefined)) tags.add(tag);
  }
  for (const tag of fieldTagsOf(metadata, types, rows)) tags.add(tag);
  const collections = rows.some(Boolean) ? memberCollectionTags(metadata, rows) : memberRelationTags(metadata);
  for (const tag of collections) tags.add(tag);
  for (const tag of linkedQueryTags(metadata)) tags.add(tag);
  return [...tags];
}

/** The two entities a junction table links, each with the junction columns that point at it. */
function junctionSides(junction: EntityMetadata) {
  return [junction.ownerColumns, junction.inverseColumns]
    .filter((columns) => columns.length > 0 && columns[0].referencedColumn)
    .map((columns) => ({ metadata: columns[0].referencedColumn!.entityMetadata, columns, referenced: columns.map((c) => c.referencedColumn!) }));
}

/**
 * What adding or removing junction rows invalidates: the tags of the rows on both sides, as they
 * are now (read on `queryRunner`), and both entities' type-level tags.
 */
export async function junctionTags(dataSource: DataSource, queryRunner: QueryRunner | undefined, junction: EntityMetadata, links: readonly object[]): Promise<string[]> {
  const tags = new Set([...metadataTypeTags(junction), ...memberCollectionTags(junction, links as Row[])]);
  for (const side of junctionSides(junction)) {
    const keys = links.map((link) => side.columns.map((column) => (link as Row)[column.propertyName] ?? column.getEntityValue(link)));
    const rows = await rowsByKeys(dataSource, queryRunner, side.metadata, side.referenced, keys);
    for (const tag of rowTags(side.metadata, rows)) tags.add(tag);
  }
  return [...tags];
}

/** `row` with `columns` set to null. */
function nulled(metadata: EntityMetadata, row: Row, columns: readonly ColumnMetadata[]): Row {
  const copy = entityRow(metadata, row);
  for (const column of columns) column.setEntityValue(copy, null);
  return copy;
}

/** The entities whose rows a delete of `metadata` rows deletes or detaches through foreign keys, with those keys. */
function dependents(dataSource: DataSource, metadata: EntityMetadata) {
  return dataSource.entityMetadatas.flatMap((child) =>
    child.foreignKeys.filter((fk) => fk.referencedEntityMetadata === metadata && (fk.onDelete === 'CASCADE' || fk.onDelete === 'SET NULL')).map((fk) => ({ child, fk })),
  );
}

/** Type-level tags of every entity a delete of `metadata` rows reaches through cascading foreign keys, at any depth. */
function reachableTypeTags(dataSource: DataSource, metadata: EntityMetadata, seen = new Set<EntityMetadata>()): string[] {
  const tags: string[] = [];
  for (const { child, fk } of dependents(dataSource, metadata)) {
    if (seen.has(child)) continue;
    seen.add(child);
    tags.push(...unknownRowTags(child));
    if (fk.onDelete === 'CASCADE') tags.push(...reachableTypeTags(dataSource, child, seen));
  }
  return tags;
}

/** What a delete of rows of `metadata` that are not read changes through cascading foreign keys: the type-level (and rows-unknown) tags of every entity reached. */
export function bulkCascadeTags(dataSource: DataSource, metadata: EntityMetadata): string[] {
  return [...new Set(reachableTypeTags(dataSource, metadata))];
}

/**
 * What the database changes by itself when `rows` of `metadata` are deleted: rows that an
 * `ON DELETE CASCADE` foreign key deletes (followed `maxDepth` levels down; below that, the
 * type-level tags of the entities reached) or `SET NULL` detaches, and junction rows (both sides).
 * Read before the delete, on the deleting query runner.
 */
export async function cascadeTags(
  dataSource: DataSource,
  queryRunner: QueryRunner | undefined,
  metadata: EntityMetadata,
  rows: readonly Row[],
  maxDepth: number,
  depth = 0,
): Promise<string[]> {
  if (rows.length === 0) return [];
  if (depth >= maxDepth) return bulkCascadeTags(dataSource, metadata);
  const tags = new Set<string>();
  for (const { child, fk } of dependents(dataSource, metadata)) {
    const keys = rows.map((row) => keyOf(fk.referencedColumns, row));
    const children = await rowsByKeys(dataSource, queryRunner, child, fk.columns, keys);
    if (children.length === 0) continue;
    // SET NULL: the children's new values (the key nulled) join queries for a null key.
    const changed = fk.onDelete === 'SET NULL' ? [...children, ...children.map((c) => nulled(child, c, fk.columns))] : children;
    const found = child.isJunction ? await junctionTags(dataSource, queryRunner, child, children) : rowTags(child, changed);
    for (const tag of found) tags.add(tag);
    if (fk.onDelete === 'CASCADE' && !child.isJunction) {
      for (const tag of await cascadeTags(dataSource, queryRunner, child, children, maxDepth, depth + 1)) tags.add(tag);
    }
  }
  return [...tags];
}
