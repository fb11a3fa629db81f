import type { EntityMetadata } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import { CacheTagsError } from '../core/index.js';
import { queryCacheSettingsOf } from '../decorators/cache-tags.js';
import { collectConditionFields, fieldTagsOfRows, usableFields, type ConditionField, type ConditionFieldSet, type ValueKind } from '../orm/index.js';
import type { Row } from './rows.js';

/** A condition field of a TypeORM entity, with the column it reads. */
export interface ColumnField extends ConditionField {
  column: ColumnMetadata;
}

const NUMBER = /^(number|int|int2|int4|int8|integer|tinyint|smallint|mediumint|bigint|unsigned big int|decimal|dec|numeric|fixed|float|float4|float8|double|double precision|real)$/;
const STRING = /^(string|varchar|character varying|nvarchar|national varchar|char|character|nchar|national char|text|tinytext|mediumtext|longtext|citext|uuid|enum|simple-enum|varchar2|nvarchar2)$/;
const BOOLEAN = /^(boolean|bool)$/;

/** How a column's values compare; `undefined` for a column the query cache never watches (dates, JSON, arrays, transformed values). */
export function kindOf(column: ColumnMetadata): ValueKind | undefined {
  if (column.transformer || column.isArray) return undefined;
  const type = (typeof column.type === 'function' ? column.type.name : String(column.type)).toLowerCase();
  if (NUMBER.test(type)) return 'number';
  if (STRING.test(type)) return 'string';
  if (BOOLEAN.test(type)) return 'boolean';
  return undefined;
}

const cached = new WeakMap<EntityMetadata, ConditionFieldSet<ColumnField>>();

function declaredColumns(metadata: EntityMetadata): ColumnMetadata[] {
  if (typeof metadata.target !== 'function') return [];
  return queryCacheSettingsOf(metadata.target).conditionFields.map((name) => {
    const column = metadata.findRelationWithPropertyPath(name)?.joinColumns[0] ?? metadata.findColumnWithPropertyPath(name);
    if (!column) throw new CacheTagsError('E_INVALID_OPTION', `@CacheTags of ${metadata.name}: conditionFields names ${name}, which is not a column of the entity`);
    if (!kindOf(column)) throw new CacheTagsError('E_INVALID_OPTION', `@CacheTags of ${metadata.name}: condition field ${name} is a ${String(column.type)} column, whose values the query cache cannot compare (numbers, strings and booleans without a transformer only)`);
    return column;
  });
}

function fieldsOf(metadata: EntityMetadata): ConditionFieldSet<ColumnField> {
  let found = cached.get(metadata);
  if (found) return found;
  const mapped = metadata.isJunction ? [] : [
    ...metadata.primaryColumns,
    ...metadata.columns.filter((c) => c.relationMetadata && (c.relationMetadata.isManyToOne || c.relationMetadata.isOneToOneOwner)),
    ...metadata.uniques.flatMap((u) => u.columns),
    ...metadata.indices.flatMap((i) => i.columns),
  ];
  found = collectConditionFields(mapped, () => declaredColumns(metadata), (column) => {
    const kind = kindOf(column);
    return kind ? { name: column.databaseName, kind, column } : undefined;
  });
  cached.set(metadata, found);
  return found;
}

/**
 * The condition fields of an entity (docs/query-cache.md): primary key, join columns of
 * many-to-one and owning one-to-one relations, indexed and unique columns, and `@CacheTags`
 * `conditionFields`, in that order of preference; one per database column, named by it.
 * @throws CacheTagsError `E_INVALID_OPTION` when `conditionFields` names something that is not a comparable column.
 */
export function conditionFields(metadata: EntityMetadata): ColumnField[] {
  return usableFields(fieldsOf(metadata));
}

/*
 * A value a row leaves undefined: in a stored row it cannot happen; in a new row it is the
 * column's value only when the database has nothing else to put there (no default, not
 * generated), and then it is NULL.
 */
function valueOf(row: Row, field: ConditionField): unknown {
  const { column } = field as ColumnField;
  const value = column.getEntityValue(row);
  if (value !== undefined) return value;
  const filledByDatabase = column.default !== undefined || column.isGenerated || column.isCreateDate || column.isUpdateDate || column.isVersion || column.isDeleteDate;
  return filledByDatabase ? undefined : null;
}

/**
 * The field tags that a change of `rows` of `metadata` bumps, under each of `types`. A write never
 * fails on a wrong `conditionFields` (it has reached the database already): the fields from the
 * mapping still count, and every cached query of the entity rejects with the error.
 */
export function fieldTagsOf(metadata: EntityMetadata, types: readonly string[], rows: readonly (Row | undefined)[]): string[] {
  const { fields } = fieldsOf(metadata);
  return fields.length === 0 ? [] : fieldTagsOfRows(types, fields, rows, valueOf);
}
