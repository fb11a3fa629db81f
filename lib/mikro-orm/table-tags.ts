import { ReferenceKind, type EntityManager } from '@mikro-orm/core';
import { isWrittenTable, writeTargetTable } from '../orm/index.js';
import { tagsOfRows } from './rows.js';
import { allMetadata } from './sql-package.js';

/**
 * Type-level tags of the entities stored in the table that a raw write statement targets; for a
 * many-to-many pivot table, those of the two related entities. None for a statement that writes
 * no known table (a SELECT, DDL, a table no entity maps).
 */
export function tableTags(em: EntityManager, sql: string): string[] {
  const target = writeTargetTable(sql);
  if (!target) return [];
  const tags = new Set<string>();
  for (const meta of allMetadata(em)) {
    if (!isWrittenTable(target, meta.tableName, meta.schema)) continue;
    const metas = meta.pivotTable
      ? meta.props.filter((prop) => prop.kind === ReferenceKind.MANY_TO_ONE && prop.targetMeta).map((prop) => prop.targetMeta!)
      : [meta];
    for (const m of metas) for (const tag of tagsOfRows(m, [])) tags.add(tag);
  }
  return [...tags];
}

/**
 * The SQL text of what `em.execute` accepts: a string; in MikroORM 6 a knex query builder or raw
 * (`toSQL()`); in 7 a `raw()` fragment (`sql`) or a native query builder (`compile()`).
 */
export function sqlOf(query: unknown): string {
  if (typeof query === 'string') return query;
  const q = query as { toSQL?: () => { sql?: string }; compile?: () => { sql?: string }; sql?: unknown } | null;
  if (typeof q?.toSQL === 'function') return q.toSQL().sql ?? '';
  if (typeof q?.sql === 'string') return q.sql;
  return typeof q?.compile === 'function' ? (q.compile().sql ?? '') : '';
}
