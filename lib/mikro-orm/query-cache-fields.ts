import { ReferenceKind, Reference, type EntityMetadata, type EntityProperty, type MetadataStorage } from '@mikro-orm/core';
import { CacheTagsError } from '../core/index.js';
import { queryCacheSettingsOf } from '../decorators/cache-tags.js';
import { collectConditionFields, fieldTagsOfRows, usableFields, type ConditionField, type ConditionFieldSet, type ValueKind } from '../orm/index.js';
import { holdsForeignKey, type Row } from './rows.js';
import { allMetadata } from './sql-package.js';

/** A condition field of a MikroORM entity, with the property it reads. */
export interface PropertyField extends ConditionField {
  prop: EntityProperty;
}

/**
 * How a property's values compare; `undefined` for one the query cache never watches: dates,
 * JSON, bigint and decimal (their JS form and the database's differ), and any custom type.
 */
function scalarKind(prop: EntityProperty): ValueKind | undefined {
  if (prop.customType || prop.array) return undefined;
  const type: string = prop.runtimeType;
  return type === 'number' || type === 'string' || type === 'boolean' ? type : undefined;
}

/** The kind of a property's column: a to-one relation's is the related primary key's. */
export function kindOf(prop: EntityProperty): ValueKind | undefined {
  if (prop.kind === ReferenceKind.SCALAR) return scalarKind(prop);
  if (!holdsForeignKey(prop) || prop.fieldNames?.length !== 1) return undefined;
  const pks = prop.targetMeta?.getPrimaryProps() ?? [];
  return pks.length === 1 && pks[0].kind === ReferenceKind.SCALAR ? scalarKind(pks[0]) : undefined;
}

const cached = new WeakMap<EntityMetadata, ConditionFieldSet<PropertyField>>();

function declaredProps(meta: EntityMetadata): EntityProperty[] {
  return queryCacheSettingsOf(meta.class).conditionFields.map((name) => {
    const prop = meta.properties[name] as EntityProperty | undefined ?? meta.props.find((p) => p.fieldNames?.length === 1 && p.fieldNames[0] === name);
    if (!prop) throw new CacheTagsError('E_INVALID_OPTION', `@CacheTags of ${meta.className}: conditionFields names ${name}, which is not a property of the entity`);
    if (!kindOf(prop)) {
      throw new CacheTagsError('E_INVALID_OPTION', `@CacheTags of ${meta.className}: condition field ${name} is a ${prop.type} property, whose values the query cache cannot compare (numbers, strings and booleans without a custom type only)`);
    }
    return prop;
  });
}

function indexedProps(meta: EntityMetadata): EntityProperty[] {
  const names = [...meta.indexes, ...meta.uniques].flatMap((index): string[] => (index.properties === undefined ? [] : [index.properties].flat()));
  return [...meta.props.filter((prop) => prop.index || prop.unique), ...names.map((name) => meta.properties[name] as EntityProperty | undefined).filter((p) => p !== undefined)];
}

function fieldsOf(meta: EntityMetadata): ConditionFieldSet<PropertyField> {
  let found = cached.get(meta);
  if (found) return found;
  const mapped = meta.pivotTable ? [] : [...meta.getPrimaryProps(), ...meta.props.filter(holdsForeignKey), ...indexedProps(meta)];
  found = collectConditionFields(mapped, () => (meta.pivotTable ? [] : declaredProps(meta)), (prop) => {
    const kind = kindOf(prop);
    const column = prop.fieldNames?.length === 1 ? prop.fieldNames[0] : undefined;
    return kind && column && prop.persist !== false ? { name: column, kind, prop } : undefined;
  });
  cached.set(meta, found);
  return found;
}

/**
 * The condition fields of an entity (docs/query-cache.md): primary key, join columns of
 * many-to-one and owning one-to-one relations, indexed and unique properties, and `@CacheTags`
 * `conditionFields`, in that order of preference; one per database column, named by it (as the
 * TypeORM integration names them, so both spell one column's tags alike).
 * @throws CacheTagsError `E_INVALID_OPTION` when `conditionFields` names something that is not a comparable property.
 */
export function conditionFields(meta: EntityMetadata): PropertyField[] {
  return usableFields(fieldsOf(meta));
}

/**
 * Works out every entity's condition fields now, so that a wrong `@CacheTags` `conditionFields`
 * is reported when the ORM starts, not in the middle of a write.
 * @throws CacheTagsError `E_INVALID_OPTION` naming the entity and the field.
 */
export function checkConditionFields(metadata: MetadataStorage): void {
  for (const meta of allMetadata(metadata)) if (!meta.embeddable && !meta.virtual) conditionFields(meta);
}

/** The condition field a property (or column) name stands for, if it is one. */
export function conditionFieldNamed(meta: EntityMetadata, name: string): PropertyField | undefined {
  return conditionFields(meta).find((field) => field.prop.name === name || field.name === name);
}

/** The value of a column as a row holds it: a relation (entity, reference or `{ id }`) gives its key. */
export function columnValue(row: Row, prop: EntityProperty): unknown {
  const value = row[prop.name];
  if (!holdsForeignKey(prop) || value === null || typeof value !== 'object') return value;
  const related = Reference.unwrapReference(value) as Row;
  return related[prop.targetMeta?.primaryKeys[0] ?? 'id'];
}

function valueOf(row: Row, field: ConditionField): unknown {
  return columnValue(row, (field as PropertyField).prop);
}

/**
 * The field tags that a change of `rows` of `meta` bumps, under each of `types`. A write never
 * fails on a wrong `conditionFields` (it has reached the database already): the mapping's fields
 * still count, and every cached query of the entity rejects with the error.
 */
export function fieldTagsOf(meta: EntityMetadata, types: readonly string[], rows: Iterable<Row | undefined>): string[] {
  const { fields } = fieldsOf(meta);
  return fields.length === 0 ? [] : fieldTagsOfRows(types, fields, [...rows], valueOf);
}

/** Whether the database fills a column the insert leaves out (a default, a generated key or value): its value is then not known. */
function filledByDatabase(prop: EntityProperty): boolean {
  return prop.default !== undefined || prop.defaultRaw !== undefined || !!prop.autoincrement || !!prop.version || !!prop.generated || prop.onCreate !== undefined;
}

/**
 * A new row as the database stores it, as far as its condition fields go: a condition field the
 * insert leaves undefined is NULL, unless the database fills it.
 */
export function insertedRow(meta: EntityMetadata, row: Row): Row {
  const missing = fieldsOf(meta).fields.filter(({ prop }) => row[prop.name] === undefined && !filledByDatabase(prop));
  if (missing.length === 0) return row;
  // Keeps the prototype: a tag function may read a getter of the entity.
  return Object.assign(Object.create(Object.getPrototypeOf(row) as object | null) as Row, row, Object.fromEntries(missing.map(({ prop }) => [prop.name, null])));
}
