import { createHash } from 'node:crypto';

/*
 * The tags of the query cache (docs/query-cache.md). A write bumps, for every changed row, old and
 * new values, one field tag per condition field; a cached query depends on the field tags of the
 * values its equality conditions name. No registry of queries is kept: a query and a write that
 * meet in a row agree on the tag because both spell it from the same (entity, field, value).
 */

/**
 * How the values of a condition field compare in the database, hence how they are spelled in a
 * field tag: `5` and `'5'` are one value of a `number` field.
 */
export type ValueKind = 'number' | 'string' | 'boolean';

/**
 * A field whose values writes spell into field tags. The integration fixes the list per entity
 * from its mapping (primary key, join columns, indexed and unique columns, `@CacheTags`
 * `conditionFields`), so that every process agrees on it without a registry.
 */
export interface ConditionField {
  /** The name the integration spells it by: one name per database column (a relation and its FK column share one). */
  name: string;
  kind: ValueKind;
}

/** Keys longer than this are hashed: a tag is a store key. */
const MAX_KEY = 48;

/** The tag bumped with the type-level tag by every write whose rows are not known (bulk writes, raw SQL, deep cascades). */
export function rowsUnknownTag(type: string): string {
  return `${type}?rows`;
}

/**
 * The tag of one value of one condition field of an entity: `Photo.user_id=5`, `Photo.user_id:null`
 * for null (its own spelling: no string value spells it).
 */
export function fieldTag(type: string, field: string, key: string | null): string {
  if (key === null) return `${type}.${field}:null`;
  return `${type}.${field}=${key.length > MAX_KEY ? createHash('sha1').update(key).digest('base64url').slice(0, 22) : key}`;
}

/*
 * String keys are deliberately coarse: any two strings some database collation calls equal must
 * share a key (MariaDB's default collations ignore case, accents and trailing spaces, and equate
 * 'ß' with 's' or 'ss'), while two strings that merely share one only cost a cache miss. So case
 * and accents are folded, everything but letters and digits dropped, and runs of one character
 * collapsed.
 */
function stringKey(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/ß/g, 's')
    .replace(/[^\p{L}\p{N}]/gu, '')
    .replace(/(.)\1+/gu, '$1');
}

const TRUE = new Set<unknown>([true, 1, '1', 't', 'true']);
const FALSE = new Set<unknown>([false, 0, '0', 'f', 'false']);

/**
 * The spelling of `value` in a field tag of a field of `kind`: `null` for a database NULL
 * (`null` or `undefined`), `undefined` when the value cannot be compared safely (a number field
 * given `'5abc'`, a string field given a number: databases convert those in ways a key cannot
 * follow), so the query that named it must fall back.
 */
export function valueKey(value: unknown, kind: ValueKind): string | null | undefined {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'number': {
      if (typeof value === 'bigint') return value.toString();
      if (typeof value !== 'number' && typeof value !== 'string') return undefined;
      const n = typeof value === 'number' ? value : value.trim() === '' ? NaN : Number(value);
      return Number.isFinite(n) ? String(Object.is(n, -0) ? 0 : n) : undefined;
    }
    case 'string':
      return typeof value === 'string' ? stringKey(value) : undefined;
    case 'boolean':
      return TRUE.has(value) ? 'true' : FALSE.has(value) ? 'false' : undefined;
  }
}

/** The tags that a row's `unknownRows` write stands for: each type-level tag and its rows-unknown tag. */
export function unknownRowsTags(types: readonly string[]): string[] {
  return types.flatMap((type) => [type, rowsUnknownTag(type)]);
}

/**
 * The field tags a change of `rows` (old rows, new rows: any mix) bumps: for each row, each
 * condition field and each of `types` (the entity's type-level names, its own and its parents'),
 * the tag of the row's value. A row whose value of a condition field cannot be spelled (a value
 * the ORM left undefined in a new row, say) cannot say which queries it joins: the rows-unknown
 * tags are bumped instead.
 */
export function fieldTagsOfRows(types: readonly string[], fields: readonly ConditionField[], rows: readonly (Record<string, unknown> | undefined)[], valueOf: (row: Record<string, unknown>, field: ConditionField) => unknown): string[] {
  const tags = new Set<string>();
  let unknown = false;
  for (const row of rows) {
    if (!row) continue;
    for (const field of fields) {
      const value = valueOf(row, field);
      const key = value === undefined ? undefined : valueKey(value, field.kind);
      if (key === undefined) unknown = true;
      else for (const type of types) tags.add(fieldTag(type, field.name, key));
    }
  }
  if (unknown) for (const type of types) tags.add(rowsUnknownTag(type));
  return [...tags];
}
