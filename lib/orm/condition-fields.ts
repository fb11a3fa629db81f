import type { CacheTagsError } from '../core/index.js';
import type { ConditionField } from './query-tags.js';

/**
 * The condition fields of one entity (docs/query-cache.md), worked out once, and what is wrong
 * with its `@CacheTags` `conditionFields`: kept rather than thrown, so that the mapping's own
 * fields still serve the writes while every cached query of the entity reports the mistake.
 */
export interface ConditionFieldSet<F extends ConditionField> {
  /** From the mapping and the declared fields; the declared ones are left out when `error` is set. */
  fields: F[];
  error?: CacheTagsError;
}

/**
 * The same step in both ORM integrations: the mapping's candidates (primary key, join columns,
 * indexed and unique ones, in that order of preference), then the declared ones, each turned into
 * a field by `fieldOf` (`undefined`: not comparable) and kept once per database column, the first
 * candidate naming a column winning.
 */
export function collectConditionFields<C, F extends ConditionField>(mapped: readonly C[], declared: () => C[], fieldOf: (candidate: C) => F | undefined): ConditionFieldSet<F> {
  let extra: C[] = [];
  let error: CacheTagsError | undefined;
  try {
    extra = declared();
  } catch (caught) {
    error = caught as CacheTagsError;
  }
  const byName = new Map<string, F>();
  for (const candidate of [...mapped, ...extra]) {
    const field = fieldOf(candidate);
    if (field && !byName.has(field.name)) byName.set(field.name, field);
  }
  return { fields: [...byName.values()], error };
}

/** The fields of `set`. @throws CacheTagsError the declaration's mistake, when it has one. */
export function usableFields<F extends ConditionField>(set: ConditionFieldSet<F>): F[] {
  if (set.error) throw set.error;
  return set.fields;
}
