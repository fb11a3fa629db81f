import { ReferenceKind, type EntityManager } from '@mikro-orm/core';
import { isWrittenTable, writeTargetTable } from '../orm/index.js';
import { unknownRowTags } from './rows.js';

/**
 * Type-level (and rows-unknown) tags of the entities stored in the table that a raw write statement targets; for a
 * many-to-many pivot table, those of the two related entities. None for a statement that writes
 * no known table (a SELECT, DDL, a table no entity maps).
 */
export function tableTags(em: EntityManager, sql: string): string[] {
  const target = writeTargetTable(sql);
  if (!target) return [];
  const tags = new Set<string>();
  for (const meta of Object.values(em.getMetadata().getAll())) {
    if (!isWrittenTable(target, meta.tableName, meta.schema)) continue;
    const metas = meta.pivotTable
      ? meta.props.filter((prop) => prop.kind === ReferenceKind.MANY_TO_ONE && prop.targetMeta).map((prop) => prop.targetMeta!)
      : [meta];
    for (const m of metas) for (const tag of unknownRowTags(m)) tags.add(tag);
  }
  return [...tags];
}

/** The SQL text of what `em.execute` accepts: a string, a knex query builder or a knex raw. */
export function sqlOf(query: unknown): string {
  if (typeof query === 'string') return query;
  const toSQL = (query as { toSQL?: () => { sql?: string } } | null)?.toSQL;
  return typeof toSQL === 'function' ? (toSQL.call(query).sql ?? '') : '';
}
