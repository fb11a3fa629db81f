import type { EntityMetadata } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import { fieldTag, rowsUnknownTag, valueKey } from '../orm/index.js';
import { kindOf } from './query-cache-fields.js';
import { queryType } from './query-cache-where.js';

/** The field tag of `column` holding `value`, or `undefined` when the value cannot be spelled. */
function columnTag(metadata: EntityMetadata, column: ColumnMetadata, value: unknown): string | undefined {
  const kind = kindOf(column);
  const key = kind && value !== undefined ? valueKey(value, kind) : undefined;
  return key === undefined ? undefined : fieldTag(queryType(metadata), column.databaseName, key);
}

/** A tag of a row of `metadata` learned, with the entity's rows-unknown tag: a write whose rows are not known (raw SQL, a bulk write) must reach it too. */
function learn(metadata: EntityMetadata, tag: string | undefined, out: Set<string>): void {
  const type = queryType(metadata);
  out.add(tag || type);
  out.add(rowsUnknownTag(type));
}

/*
 * Every change of a row bumps the field tag of each of its primary-key columns (they are condition
 * fields), so those tags stand for "this row changed". A to-many relation that was loaded is
 * watched through the related entity's join column holding the owner's key: every related row that
 * joins or leaves it bumps that tag. A many-to-many relation needs nothing more: a junction write
 * bumps the tags of the rows on both sides. Whatever cannot be spelled falls back to the
 * type-level tag of its entity.
 */
function learnEntity(metadata: EntityMetadata, entity: object, out: Set<string>, seen: Set<object>, own: boolean): void {
  if (seen.has(entity)) return;
  seen.add(entity);
  if (own) for (const column of metadata.primaryColumns) learn(metadata, columnTag(metadata, column, column.getEntityValue(entity)), out);
  for (const relation of metadata.relations) {
    const value = (entity as Record<string, unknown>)[relation.propertyName];
    if (value === undefined || value instanceof Promise) continue;
    const target = relation.inverseEntityMetadata;
    if (relation.isOneToMany || relation.isOneToOneNotOwner) {
      const joinColumns = relation.inverseRelation?.joinColumns ?? [];
      const joinColumn = joinColumns.length === 1 ? joinColumns[0] : undefined;
      const tag = joinColumn?.referencedColumn && columnTag(target, joinColumn, joinColumn.referencedColumn.getEntityValue(entity));
      learn(target, tag, out);
    }
    learnRows(target, value, true, out, seen);
  }
}

/**
 * The tags of the rows a query returned or loaded (rule 1): entities (arrays of them, nested
 * relations) of `metadata`; other values (counts, ids loaded with `loadRelationIds`) carry none.
 * `own`: whether the rows' own tags are wanted, or only those of their loaded relations (the
 * query's tags cover the rows already: `QueryTags.rowsCovered`).
 */
export function learnRows(metadata: EntityMetadata, value: unknown, own: boolean, out: Set<string> = new Set(), seen: Set<object> = new Set()): Set<string> {
  if (Array.isArray(value)) for (const item of value) learnRows(metadata, item, own, out, seen);
  else if (typeof value === 'object' && value !== null) learnEntity(metadata, value, out, seen, own);
  return out;
}
