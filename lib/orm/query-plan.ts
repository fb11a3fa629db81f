import { fieldTag, rowsUnknownTag, valueKey, type ConditionField } from './query-tags.js';

/**
 * A query's condition on one entity, in the terms the query cache reasons in: the integration
 * translates its ORM's `where` into this, and {@link planQueryTags} turns it into the tags the
 * cached result depends on before the query runs.
 */
export interface EntityCondition {
  /** The entity's type-level tag (its `@CacheTags` name). */
  type: string;
  /**
   * The entity's condition fields, the order giving the preference between equally selective
   * ones (primary key first).
   */
  fields: readonly ConditionField[];
  /**
   * The alternatives (OR) of the condition, each a conjunction that a matching row satisfies
   * entirely; `undefined` for no condition at all (every row), or a condition not understood.
   */
  alternatives: readonly Conjunction[] | undefined;
}

/**
 * One conjunction of a condition. Conditions it holds besides these (ranges, `Not`, `Like`, raw
 * fragments on a field) only narrow it and need not be listed.
 */
export interface Conjunction {
  /**
   * Fields the conjunction compares for equality, each with the values it allows (`In` gives
   * several, `IsNull` gives `null`): a matching row has one of them.
   */
  equalities: ReadonlyMap<string, readonly unknown[]>;
  /** Conditions through relations: the related rows must be watched too. */
  relations: readonly RelationCondition[];
  /**
   * Whether the conjunction also holds conditions on the entity's own fields that are not in
   * `equalities` (ranges, `Not`, `Like`, equalities on other fields): a write of a row alone can
   * then move it into the result.
   */
  otherConditions?: boolean;
  /**
   * Set when the conjunction holds a condition the integration could not translate and that
   * could widen it or depends on rows it cannot name (a relation condition of unknown shape): the
   * entity's type-level tag is then the only safe dependency.
   */
  opaque?: boolean;
}

/**
 * A condition on a related entity (`where: { user: { username: 'david' } }`).
 */
export interface RelationCondition {
  /** The related entity's condition. */
  target: EntityCondition;
  /**
   * Whether the join column is on the querying entity (many-to-one, owning one-to-one): a write
   * of a querying row alone (a new photo of david) can then bring it into the result, so the
   * querying entity needs a dependency of its own. To-many and inverse relations join through the
   * related row or a junction row, whose writes bump the related row's tags.
   */
  ownerJoins: boolean;
}

/**
 * What a cached query depends on before it runs.
 */
export interface QueryTags {
  /** Tags whose versions are read before the query. */
  tags: string[];
  /** Whether no type-level tag is among them (every write of the entity would invalidate the result otherwise). */
  precise: boolean;
  /**
   * Whether every row of the querying entity that the query can return bumps one of `tags`
   * whenever it changes (each conjunction watches a field of its own, or the type-level tag
   * stands in): the returned rows' own tags then need not be learned, only those of the
   * relations loaded with them.
   */
  rowsCovered: boolean;
}

interface Plan {
  tags: Set<string>;
  precise: boolean;
}

/** The condition field a conjunction can be watched by (the fewest values; ties: the earlier field), with its keys. */
function watchedField(condition: EntityCondition, conjunction: Conjunction, allowed: ReadonlySet<string> | undefined): { field: string; keys: (string | null)[] } | undefined {
  let best: { field: string; keys: (string | null)[] } | undefined;
  for (const field of condition.fields) {
    const values = conjunction.equalities.get(field.name);
    if (!values || values.length === 0 || (allowed && !allowed.has(field.name))) continue;
    const keys = values.map((value) => valueKey(value, field.kind));
    if (keys.some((key) => key === undefined)) continue;
    const distinct = [...new Set(keys as (string | null)[])];
    if (!best || distinct.length < best.keys.length) best = { field: field.name, keys: distinct };
  }
  return best;
}

/*
 * A conjunction made of to-many or inverse relation conditions alone (users with a photo of
 * status 2): a row enters or leaves it only through writes of related rows (a photo, or the
 * junction row linking one), and those bump the related rows' tags, which the relation's own plan
 * watches. Anything else of its own (a range, an equality on a field not watched, a join column)
 * lets a write of the row itself move it.
 */
function joinedOnlyThroughRelatedRows(conjunction: Conjunction): boolean {
  return !conjunction.opaque && !conjunction.otherConditions && conjunction.equalities.size === 0 && conjunction.relations.length > 0 && conjunction.relations.every((r) => !r.ownerJoins);
}

/** Adds the tags of `condition` to `out`; returns whether they cover every row of its entity that can match. */
function plan(condition: EntityCondition, allowed: ReadonlySet<string> | undefined, out: Plan): boolean {
  out.tags.add(rowsUnknownTag(condition.type));
  const fallback = (): true => {
    out.tags.add(condition.type);
    out.precise = false;
    return true;
  };
  if (!condition.alternatives || condition.alternatives.length === 0) return fallback();
  let covered = true;
  for (const conjunction of condition.alternatives) {
    const watched = conjunction.opaque ? undefined : watchedField(condition, conjunction, allowed);
    if (watched) for (const key of watched.keys) out.tags.add(fieldTag(condition.type, watched.field, key));
    else if (joinedOnlyThroughRelatedRows(conjunction)) covered = false;
    else fallback();
    for (const relation of conjunction.relations) plan(relation.target, undefined, out);
  }
  return covered || out.tags.has(condition.type);
}

/**
 * The tags a query's result depends on before it runs (rule by rule in docs/query-cache.md):
 * - the rows-unknown tag of every entity the condition reads, bumped by the writes whose rows
 *   are not known;
 * - for each conjunction, the field tags of one of its equality fields, the one with the fewest
 *   values (`invalidateOn` restricts the choice, for the querying entity): a row that matches, or
 *   matched before a write, has one of those values, old or new;
 * - for conditions through relations, the related entity's tags by the same rules, and, when the
 *   join column is on the querying entity and no field of its own is watched, its type-level tag;
 * - with no equality to watch (no condition, ranges only, `Not`, `Like`, ...), the type-level tag.
 *
 * The tags of the rows the query returns or loads (rule 1) are learned after it ran (see
 * {@link runCachedQuery}); the returned rows' own only where `rowsCovered` is false.
 */
export function planQueryTags(condition: EntityCondition, invalidateOn?: readonly string[]): QueryTags {
  const out: Plan = { tags: new Set(), precise: true };
  const rowsCovered = plan(condition, invalidateOn ? new Set(invalidateOn) : undefined, out);
  return { tags: [...out.tags], precise: out.precise, rowsCovered };
}

/**
 * Whether a condition is a primary-key lookup (the `queryCache: 'byId'` default): every
 * alternative compares each key field for equality and nothing else.
 */
export function isKeyLookup(condition: EntityCondition, keyFields: readonly string[]): boolean {
  const alternatives = condition.alternatives;
  return !!alternatives && alternatives.length > 0 && keyFields.length > 0 && alternatives.every((c) =>
    !c.opaque && !c.otherConditions && c.relations.length === 0 && c.equalities.size === keyFields.length && keyFields.every((f) => (c.equalities.get(f)?.length ?? 0) > 0));
}
