import type { EntityMetadata } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import type { RelationMetadata } from 'typeorm/metadata/RelationMetadata.js';
import type { Conjunction, EntityCondition, RelationCondition } from '../orm/index.js';
import { metadataTypeTags } from './entity-tags.js';
import { conditionFields } from './query-cache-fields.js';

/** A TypeORM `FindOperator` (by its brand: a second copy of TypeORM may be loaded). */
interface FindOperatorLike {
  readonly type: string;
  readonly value: unknown;
}

export function isFindOperator(value: unknown): value is FindOperatorLike {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)['@instanceof'] === Symbol.for('FindOperator');
}

/** The type-level tag a query of `metadata` is cached under. */
export function queryType(metadata: EntityMetadata): string {
  return metadataTypeTags(metadata)[0];
}

function isPlainValue(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint';
}

/**
 * The values an equality condition allows, or `undefined` for any other condition: a plain
 * value, `Equal(v)`, `In([...])` (several values), `IsNull()` (null). A bare `null` is not one:
 * TypeORM ignores it or rejects it, depending on version and settings.
 */
function equalityValues(value: unknown): unknown[] | undefined {
  if (isPlainValue(value)) return [value];
  if (!isFindOperator(value)) return undefined;
  switch (value.type) {
    case 'equal':
      return isPlainValue(value.value) ? [value.value] : undefined;
    case 'in':
      return Array.isArray(value.value) && value.value.length > 0 && value.value.every(isPlainValue) ? [...(value.value as unknown[])] : undefined;
    case 'isNull':
      return [null];
    default:
      return undefined;
  }
}

interface Building {
  equalities: Map<string, unknown[]>;
  relations: RelationCondition[];
  otherConditions: boolean;
  opaque: boolean;
}

function addEquality(out: Building, column: ColumnMetadata, values: unknown[]): void {
  const current = out.equalities.get(column.databaseName);
  // Two conditions on one column (a relation and its FK property): both hold, the narrower suffices.
  if (!current || values.length < current.length) out.equalities.set(column.databaseName, values);
}

function relationCondition(out: Building, relation: RelationMetadata, value: unknown): void {
  const owning = relation.isManyToOne || relation.isOneToOneOwner;
  const joinColumn = owning && relation.joinColumns.length === 1 ? relation.joinColumns[0] : undefined;
  const direct = equalityValues(value);
  if (direct && joinColumn) return addEquality(out, joinColumn, direct);
  if (typeof value !== 'object' || value === null || Array.isArray(value) || isFindOperator(value)) {
    out.opaque = true;
    return;
  }
  const nested = value as Record<string, unknown>;
  const keys = Object.keys(nested).filter((k) => nested[k] !== undefined);
  // `{ user: { id: 5 } }` is the join column's own value: no read of the related row is needed.
  const referenced = joinColumn?.referencedColumn;
  if (joinColumn && referenced && keys.length === 1 && keys[0] === referenced.propertyPath) {
    const values = equalityValues(nested[keys[0]]);
    if (values) return addEquality(out, joinColumn, values);
  }
  out.relations.push({ target: entityCondition(relation.inverseEntityMetadata, nested), ownerJoins: owning });
}

function conjunction(metadata: EntityMetadata, where: Record<string, unknown>): Conjunction {
  const out: Building = { equalities: new Map(), relations: [], otherConditions: false, opaque: false };
  for (const key of Object.keys(where)) {
    const value = where[key];
    if (value === undefined) continue;
    const relation = metadata.findRelationWithPropertyPath(key);
    if (relation) {
      relationCondition(out, relation, value);
      continue;
    }
    const column = metadata.findColumnWithPropertyPath(key);
    if (!column) {
      // An embedded entity's fields, or a name TypeORM will reject: only narrows, or fails.
      out.otherConditions = true;
      continue;
    }
    const values = equalityValues(value);
    if (values) addEquality(out, column, values);
    else out.otherConditions = true;
  }
  return out;
}

/** A TypeORM `where` (an object, an array of alternatives, or none) as the query cache's condition. */
export function entityCondition(metadata: EntityMetadata, where: unknown): EntityCondition {
  const condition = { type: queryType(metadata), fields: conditionFields(metadata) };
  if (where === undefined || where === null) return { ...condition, alternatives: undefined };
  const list = Array.isArray(where) ? where : [where];
  if (list.some((w) => typeof w !== 'object' || w === null || isFindOperator(w))) {
    return { ...condition, alternatives: [{ equalities: new Map(), relations: [], opaque: true }] };
  }
  return { ...condition, alternatives: list.map((w) => conjunction(metadata, w as Record<string, unknown>)) };
}

/**
 * Find options as a cache-key description: each `FindOperator` as its type, value and SQL (a
 * `Raw` built by a function keeps the function, which the key refuses), each instance of a mapped
 * entity as its entity's name and its fields. Other values go to the key as they are: it spells
 * built-in values by their content and refuses other class instances.
 */
export function keyable(value: unknown, isEntity: (value: object) => boolean): unknown {
  if (isFindOperator(value)) {
    const o = value as unknown as Record<string, unknown>;
    return { $findOperator: value.type, value: keyable(o._value, isEntity), sql: o._getSql, parameters: keyable(o._objectLiteralParameters, isEntity), useParameter: o._useParameter, multiple: o._multipleParameters };
  }
  if (Array.isArray(value)) return value.map((item) => keyable(item, isEntity));
  if (typeof value !== 'object' || value === null) return value;
  const proto = Object.getPrototypeOf(value) as object | null;
  const entity = proto !== Object.prototype && proto !== null && isEntity(value);
  if (!entity && proto !== Object.prototype && proto !== null) return value;
  const fields = Object.fromEntries(Object.keys(value).map((key) => [key, keyable((value as Record<string, unknown>)[key], isEntity)]));
  return entity ? { $entity: [value.constructor.name, fields] } : fields;
}
