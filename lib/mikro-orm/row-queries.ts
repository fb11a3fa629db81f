import { ReferenceKind, Utils, type EntityManager, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import type { AbstractSqlDriver } from '@mikro-orm/knex';
import { entityShaped, holdsForeignKey, primaryKeyOf, tagsOfRows, type Row } from './rows.js';
import { allMetadata } from './sql-package.js';

/*
 * Reads the rows a write is about to touch, on the writer's connection and transaction, so that
 * they see the transaction's own uncommitted rows. Driver-built query builders carry no entity
 * manager, which keeps them out of the query-builder hook (no pre-select of the pre-select).
 */

function driverOf(em: EntityManager): AbstractSqlDriver {
  return em.getDriver() as unknown as AbstractSqlDriver;
}

/**
 * The rows of `meta` matching `where` (a filter query, or a processed query-builder condition),
 * entity-shaped; at most `on.limit` of them.
 */
export async function selectRows(em: EntityManager, meta: EntityMetadata, where: unknown, on: { alias?: string; ctx?: unknown; limit?: number } = {}): Promise<Row[]> {
  const cond = Utils.isPrimaryKey(where) && meta.primaryKeys.length === 1 ? { [meta.primaryKeys[0]]: where } : where;
  const ctx = on.ctx ?? em.getTransactionContext();
  const qb = driverOf(em).createQueryBuilder<object>(meta.class, ctx as never, 'write', false, undefined, on.alias);
  qb.select('*').where(cond as object);
  if (on.limit !== undefined) qb.limit(on.limit);
  const rows = (await qb.execute('all', true)) as unknown as Row[];
  return rows.map((row) => entityShaped(meta, row));
}

function cascadingChildren(em: EntityManager, meta: EntityMetadata): Array<[EntityMetadata, EntityProperty]> {
  const out: Array<[EntityMetadata, EntityProperty]> = [];
  for (const child of allMetadata(em)) {
    for (const prop of child.props) {
      const rule = prop.deleteRule?.toLowerCase();
      const target = prop.targetMeta;
      if (holdsForeignKey(prop) && (rule === 'cascade' || rule === 'set null') && target && (target === meta || target.root === meta.root)) out.push([child, prop]);
    }
  }
  return out;
}

/** Type-level tags of every entity a delete of `meta` rows reaches through cascading foreign keys, at any depth. */
function reachableTypeTags(em: EntityManager, meta: EntityMetadata, seen = new Set<EntityMetadata>()): string[] {
  const tags: string[] = [];
  for (const [child, prop] of cascadingChildren(em, meta)) {
    if (seen.has(child)) continue;
    seen.add(child);
    tags.push(...tagsOfRows(child, []));
    if (prop.deleteRule?.toLowerCase() === 'cascade') tags.push(...reachableTypeTags(em, child, seen));
  }
  for (const prop of meta.props) if (prop.kind === ReferenceKind.MANY_TO_MANY && prop.targetMeta) tags.push(...tagsOfRows(prop.targetMeta, []));
  return tags;
}

/** What a delete of rows of `meta` that are not read changes through cascading foreign keys and pivot rows: type-level tags. */
export function bulkCascadeTags(em: EntityManager, meta: EntityMetadata): string[] {
  return [...new Set(reachableTypeTags(em, meta))];
}

/**
 * The rows a bulk write (update or delete by a condition) changes, read before it runs: `undefined`
 * when they are more than `maxRows`, found by reading one row past it, never all of them.
 */
export async function rowsOfBulkWrite(em: EntityManager, meta: EntityMetadata, where: unknown, maxRows: number, on: { alias?: string; ctx?: unknown } = {}): Promise<Row[] | undefined> {
  const rows = await selectRows(em, meta, where, { ...on, limit: maxRows + 1 });
  return rows.length > maxRows ? undefined : rows;
}

/**
 * Tags of rows the database itself changes when rows of `meta` are deleted: children with an
 * `ON DELETE CASCADE` / `SET NULL` foreign key (and theirs, `maxDepth` levels down; below that,
 * the type-level tags of the entities reached), and the entities on the other side of
 * many-to-many relations whose pivot rows go with them. Read before the delete.
 */
export async function cascadeTags(em: EntityManager, meta: EntityMetadata, deleted: Row[], maxDepth: number, depth = 0): Promise<string[]> {
  if (deleted.length === 0) return [];
  if (depth >= maxDepth) return bulkCascadeTags(em, meta);
  const pks = deleted.map((row) => primaryKeyOf(meta, row));
  const tags = new Set<string>();
  for (const [childMeta, prop] of cascadingChildren(em, meta)) {
    const children = await selectRows(em, childMeta, { [prop.name]: { $in: pks } });
    if (children.length === 0) continue;
    for (const tag of tagsOfRows(childMeta, children)) tags.add(tag);
    if (prop.deleteRule?.toLowerCase() === 'cascade') for (const tag of await cascadeTags(em, childMeta, children, maxDepth, depth + 1)) tags.add(tag);
  }
  for (const prop of meta.props) {
    if (prop.kind !== ReferenceKind.MANY_TO_MANY || !prop.targetMeta) continue;
    for (const tag of await relatedTags(em, prop, pks)) tags.add(tag);
  }
  return [...tags];
}

/** Tags of the entities linked through the many-to-many `prop` to the owners `ownerPks`, as the database holds them now. */
export async function relatedTags(em: EntityManager, prop: EntityProperty, ownerPks: unknown[]): Promise<string[]> {
  const target = prop.targetMeta!;
  const owners = ownerPks.map((pk) => Utils.asArray(pk)) as never[][];
  const byOwner = await driverOf(em).loadFromPivotTable(prop, owners, undefined, undefined, em.getTransactionContext());
  const rows = Object.values(byOwner).flat() as Row[];
  return rows.length === 0 ? [] : tagsOfRows(target, rows.map((row) => entityShaped(target, row)));
}
