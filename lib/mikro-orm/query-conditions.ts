import { RawQueryFragment, ReferenceKind, Utils, type EntityMetadata, type EntityProperty, type MetadataStorage } from '@mikro-orm/core';
import { CacheTagsError } from '../core/index.js';
import { tagForType } from '../decorators/cache-tags.js';
import { typeTagsOf, type Conjunction, type EntityCondition, type RelationCondition } from '../orm/index.js';
import { conditionFieldNamed, conditionFields } from './query-cache-fields.js';
import { holdsForeignKey } from './rows.js';
import { allMetadata } from './sql-package.js';

/*
 * Translates a MikroORM condition, as `em.find` holds it after processing (filters applied,
 * entities turned into keys), into the query cache's condition model (docs/query-cache.md): the
 * alternatives (OR) of conjunctions of equalities, with conditions through relations. What is not
 * understood is never dropped: it narrows a conjunction (`otherConditions`) or makes it opaque,
 * and every relation and table it mentions is still watched, by its type-level tag.
 */

/** Past this many alternatives (an OR of ORs), the condition is watched as a whole, by its type-level tags. */
const MAX_ALTERNATIVES = 32;

type Where = Record<string, unknown>;

interface Draft {
  equalities: Map<string, unknown[]>;
  relations: RelationCondition[];
  otherConditions: boolean;
  opaque: boolean;
}

class TooManyAlternatives extends Error {}

function draft(parts: Partial<Draft> = {}): Draft {
  return { equalities: new Map(), relations: [], otherConditions: false, opaque: false, ...parts };
}

function merge(a: Draft, b: Draft): Draft {
  const equalities = new Map(a.equalities);
  let otherConditions = a.otherConditions || b.otherConditions;
  for (const [field, values] of b.equalities) {
    // Both must hold: watching either one's values is enough, the other only narrows.
    if (equalities.has(field)) otherConditions = true;
    else equalities.set(field, values);
  }
  return { equalities, relations: [...a.relations, ...b.relations], otherConditions, opaque: a.opaque || b.opaque };
}

/** The conjunction of two conditions in disjunctive form: every pair of alternatives. */
function and(a: Draft[], b: Draft[]): Draft[] {
  if (a.length * b.length > MAX_ALTERNATIVES) throw new TooManyAlternatives();
  return a.flatMap((x) => b.map((y) => merge(x, y)));
}

function isPlainObject(value: unknown): value is Where {
  return Utils.isPlainObject(value);
}

/** A value compared as itself (a raw SQL fragment's key is a string, but not a value). */
function isScalar(value: unknown): boolean {
  if (typeof value === 'string') return !RawQueryFragment.isKnownFragment(value);
  return value === null || ['number', 'boolean', 'bigint'].includes(typeof value);
}

/** The values an equality allows (`5`, `[5, 6]`, `{ $eq: 5 }`, `{ $in: [5, 6] }`, `null`), and whether other operators narrow it. */
function equalityValues(value: unknown): { values: unknown[]; narrowed: boolean } | undefined {
  if (isScalar(value)) return { values: [value], narrowed: false };
  if (Array.isArray(value)) return value.every(isScalar) ? { values: value, narrowed: false } : undefined;
  if (!isPlainObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length === 0 || !keys.every((key) => key.startsWith('$'))) return undefined;
  // With both, each must hold: the `$eq` alone is enough to watch.
  const eq = '$eq' in value && isScalar(value.$eq) ? [value.$eq] : undefined;
  const list = Array.isArray(value.$in) && (value.$in as unknown[]).every(isScalar) ? (value.$in as unknown[]) : undefined;
  const values = eq ?? list;
  return values ? { values, narrowed: keys.length > 1 } : undefined;
}

/** Entities whose table a raw SQL fragment names: what it may read besides the querying entity. */
function tablesNamed(metadata: MetadataStorage, sql: string): EntityMetadata[] {
  const words = new Set((sql.match(/[A-Za-z_][\w$]*/g) ?? []).map((word) => word.toLowerCase()));
  return allMetadata(metadata).filter((meta) => !meta.embeddable && meta.tableName && words.has(meta.tableName.toLowerCase()));
}

/** A relation watched by its type-level tags alone: the condition on it was not understood. */
function watchedWhole(meta: EntityMetadata, ownerJoins: boolean): RelationCondition {
  return { target: { type: tagForType(meta.class), fields: conditionFields(meta), alternatives: undefined }, ownerJoins };
}

/** Every relation and raw fragment table that a part of a condition mentions, at any depth: watched whole. */
function mentioned(metadata: MetadataStorage, meta: EntityMetadata | undefined, value: unknown, out: RelationCondition[] = []): RelationCondition[] {
  if (RawQueryFragment.isKnownFragment(value as string)) {
    const raw = RawQueryFragment.getKnownFragment(value as string, false);
    if (raw) for (const table of tablesNamed(metadata, raw.sql)) out.push(watchedWhole(table, false));
    return out;
  }
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) mentioned(metadata, meta, item, out);
    return out;
  }
  if (!isPlainObject(value)) return out;
  for (const [key, inner] of Object.entries(value)) {
    mentioned(metadata, undefined, key, out);
    const prop = meta?.properties[key];
    const target = prop && prop.kind !== ReferenceKind.SCALAR && prop.kind !== ReferenceKind.EMBEDDED ? prop.targetMeta : undefined;
    if (target) out.push(watchedWhole(target, holdsForeignKey(prop!)));
    mentioned(metadata, target ?? (key.startsWith('$') ? meta : undefined), inner, out);
  }
  return out;
}

/*
 * A query of a single-table-inheritance parent returns its children's rows too, so their writes
 * must bump the parent's tags: they do when the parent is decorated with @CacheTags (a child's
 * type-level tags include its decorated parents'); a query that could miss them is refused.
 */
function checkChildrenReach(metadata: MetadataStorage, meta: EntityMetadata): void {
  if (!meta.discriminatorColumn && !meta.discriminatorValue) return;
  const type = tagForType(meta.class);
  // 6 names the parent by its class name, 7 by its class: `find` takes both.
  const parentOf = (child: EntityMetadata): EntityMetadata | undefined => (child.extends ? metadata.find(child.extends as never) ?? undefined : undefined);
  const descends = (child: EntityMetadata): boolean => {
    const parent = parentOf(child);
    return !!parent && (parent === meta || descends(parent));
  };
  const unreached = allMetadata(metadata).find((child) => child !== meta && descends(child) && !typeTagsOf(child.class).includes(type));
  if (unreached) {
    throw new CacheTagsError('E_INVALID_OPTION', `cache: ${meta.className} has the child entity ${unreached.className}, whose writes do not reach queries of ${meta.className}; decorate ${meta.className} with @CacheTags (@CacheTags({}) is enough)`);
  }
}

class ConditionReader {
  constructor(private readonly metadata: MetadataStorage) {}

  condition(meta: EntityMetadata, where: unknown): EntityCondition {
    checkChildrenReach(this.metadata, meta);
    const type = tagForType(meta.class);
    const fields = conditionFields(meta);
    if (isPlainObject(where) && Object.keys(where).length === 0) return { type, fields, alternatives: undefined };
    let alternatives: Conjunction[];
    try {
      alternatives = this.object(meta, where);
    } catch (error) {
      if (!(error instanceof TooManyAlternatives)) throw error;
      alternatives = [draft({ opaque: true, relations: mentioned(this.metadata, meta, where) })];
    }
    return { type, fields, alternatives };
  }

  private object(meta: EntityMetadata, where: unknown): Draft[] {
    if (!isPlainObject(where)) return [draft({ opaque: true, relations: mentioned(this.metadata, meta, where) })];
    let result = [draft()];
    for (const [key, value] of Object.entries(where)) result = and(result, this.entry(meta, key, value));
    return result;
  }

  private entry(meta: EntityMetadata, key: string, value: unknown): Draft[] {
    if (key === '$and' && Array.isArray(value)) return value.reduce<Draft[]>((acc, part) => and(acc, this.object(meta, part)), [draft()]);
    if (key === '$or' && Array.isArray(value) && value.length > 0) {
      const alternatives = value.flatMap((part) => this.object(meta, part));
      if (alternatives.length > MAX_ALTERNATIVES) throw new TooManyAlternatives();
      return alternatives;
    }
    // `$not` narrows the rows of its entity; what it reads through relations is watched whole.
    if (key === '$not') return [draft({ otherConditions: true, relations: mentioned(this.metadata, meta, value) })];
    const prop = meta.properties[key] as EntityProperty | undefined;
    if (!prop) {
      // A raw fragment as a key (`[sql\`lower(title)\`]: 'x'`) narrows; anything else is not understood.
      const raw = RawQueryFragment.isKnownFragment(key);
      return [draft({ otherConditions: raw, opaque: !raw, relations: mentioned(this.metadata, meta, { [key]: value }) })];
    }
    switch (prop.kind) {
      case ReferenceKind.SCALAR:
      case ReferenceKind.EMBEDDED:
        return [this.column(meta, prop, value)];
      case ReferenceKind.MANY_TO_ONE:
      case ReferenceKind.ONE_TO_ONE:
        if (holdsForeignKey(prop)) return [this.joinColumn(meta, prop, value)];
        return [this.relatedRows(prop, value)];
      default:
        return [this.relatedRows(prop, value)];
    }
  }

  /** A condition on a column of the entity: an equality on a condition field, or a narrowing. */
  private column(meta: EntityMetadata, prop: EntityProperty, value: unknown): Draft {
    const field = conditionFieldNamed(meta, prop.name);
    const equality = field && equalityValues(value);
    const relations = mentioned(this.metadata, undefined, value);
    if (!equality) return draft({ otherConditions: true, relations });
    return draft({ equalities: new Map([[field.name, equality.values]]), otherConditions: equality.narrowed, relations });
  }

  /** A condition on a many-to-one (or owning one-to-one): its join column, or the related rows. */
  private joinColumn(meta: EntityMetadata, prop: EntityProperty, value: unknown): Draft {
    if (!isPlainObject(value) || Object.keys(value).every((key) => key.startsWith('$'))) return this.column(meta, prop, value);
    const target = this.condition(prop.targetMeta!, value);
    const key = target.alternatives?.length === 1 ? keyEquality(prop.targetMeta!, target.alternatives[0]) : undefined;
    // `{ user: { id: 5 } }` is the join column's equality.
    if (key) return this.column(meta, prop, { $in: key });
    return draft({ relations: [{ target, ownerJoins: true }] });
  }

  /** A condition through a to-many or inverse relation: rows join it only through related (or junction) rows. */
  private relatedRows(prop: EntityProperty, value: unknown): Draft {
    const targetMeta = prop.targetMeta!;
    const pk = targetMeta.primaryKeys.length === 1 ? targetMeta.primaryKeys[0] : undefined;
    const keys = equalityValues(value);
    if (keys && pk && !keys.values.includes(null)) {
      return draft({ relations: [{ target: this.condition(targetMeta, { [pk]: { $in: keys.values } }), ownerJoins: false }], otherConditions: keys.narrowed });
    }
    if (isPlainObject(value)) {
      const keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === '$some') return draft({ relations: [{ target: this.condition(targetMeta, value.$some), ownerJoins: false }] });
      if (keys.every((key) => !key.startsWith('$'))) return draft({ relations: [{ target: this.condition(targetMeta, value), ownerJoins: false }] });
    }
    // `$none`, `$every`, `null`, operators: a row of the entity itself can enter (one with no related rows).
    return draft({ otherConditions: true, relations: [watchedWhole(targetMeta, false), ...mentioned(this.metadata, targetMeta, value)] });
  }
}

/** The key values of a conjunction that is a primary-key equality and nothing else. */
function keyEquality(meta: EntityMetadata, conjunction: Conjunction): unknown[] | undefined {
  const pk = meta.primaryKeys.length === 1 ? conditionFieldNamed(meta, meta.primaryKeys[0]) : undefined;
  if (!pk || conjunction.opaque || conjunction.otherConditions || conjunction.relations.length > 0 || conjunction.equalities.size !== 1) return undefined;
  return conjunction.equalities.get(pk.name) as unknown[] | undefined;
}

/**
 * The query cache's condition for a processed `where` of `meta` (filters applied). Relations an
 * `orderBy` sorts by are watched whole: a change of theirs can reorder the result, or move rows
 * in and out of a `limit` window.
 */
export function queryCondition(metadata: MetadataStorage, meta: EntityMetadata, where: unknown, orderBy?: unknown): EntityCondition {
  const condition = new ConditionReader(metadata).condition(meta, where);
  const sortedBy = mentioned(metadata, meta, orderBy);
  if (sortedBy.length === 0) return condition;
  const alternatives = (condition.alternatives ?? [draft({ opaque: true })]).map((c) => ({ ...c, relations: [...c.relations, ...sortedBy] }));
  return { ...condition, alternatives };
}
