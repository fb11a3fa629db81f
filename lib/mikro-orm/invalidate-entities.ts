import { Utils, type EntityManager, type EntityMetadata, type MikroORM } from '@mikro-orm/core';
import { CacheTagsError } from '../core/errors.js';
import { describe } from '../core/tracking-scope.js';
import { TagComputation, checkInvalidateArguments, notInstalled, unknownEntity } from '../orm/index.js';
import { selectRows } from './row-queries.js';
import { entityShaped, primaryKeyOf, tagsOfRows, unknownRowTags, type Row } from './rows.js';
import { recordWrite, subscribersOf, transactionOf } from './subscriber.js';

function metadataOf(em: EntityManager, entity: unknown): EntityMetadata {
  const name = typeof entity === 'string' ? entity : typeof entity === 'function' ? entity.name : undefined;
  const meta = name ? em.getMetadata().find(name) : undefined;
  if (!meta) throw unknownEntity(entity);
  return meta;
}

/**
 * Invalidates what a write that cache-tags cannot see changed (SQL through
 * `em.getConnection().execute()` or `em.getKnex()`, a trigger, another program) in `entity`: its
 * type-level tags, and for each of `ids` the tags of the row as it is now. An id is a primary-key
 * value, or an object holding the primary key; an object (an entity you still hold) is also tagged
 * as given, which covers rows that are already deleted. Without ids, or with a bare key (which says
 * nothing of the row's old values), the entity's rows-unknown tags are invalidated too, so cached
 * queries watching an old value are reached (docs/query-cache.md). Inside a transaction of `em` the rows are
 * read in it and the tags wait for its outermost commit or rollback, like any other write's. The
 * same shape as TypeORM's (docs/orm-contract.md).
 *
 * @example
 * ```ts
 * await em.getConnection().execute('update photo set views = views + 1 where id = ?', [photo.id]);
 * await invalidateEntities(em, Photo, [photo.id]);   // or (em, Photo) for "any photo"
 * ```
 * @returns the tags invalidated (or buffered).
 * @throws CacheTagsError `E_INVALID_OPTION` when cache-tags is not installed on the ORM, or an argument is wrong.
 * @public
 */
export async function invalidateEntities(emOrOrm: EntityManager | MikroORM, entity: Function | string, ids?: readonly unknown[]): Promise<string[]> {
  checkInvalidateArguments(entity, ids);
  const em = (emOrOrm as MikroORM).em ?? emOrOrm;
  if (typeof em?.getEventManager !== 'function') {
    throw new CacheTagsError('E_INVALID_OPTION', `invalidateEntities: the first argument must be a MikroORM EntityManager or MikroORM, got ${describe(emOrOrm)}`);
  }
  const subscribers = subscribersOf(em);
  if (subscribers.length === 0) throw notInstalled('MikroORM');
  const meta = metadataOf(em, entity);
  const computation = new TagComputation();
  const rows: Row[] = [];
  if (ids && ids.length > 0) {
    const keys = ids.map((id) => (typeof id === 'object' ? primaryKeyOf(meta, id as object as Row) : id));
    const pks = meta.primaryKeys;
    const where = pks.length === 1 ? { [pks[0]]: { $in: keys } } : { $or: keys.map((key) => Object.fromEntries(pks.map((pk, i) => [pk, (key as unknown[])[i]]))) };
    rows.push(...(await selectRows(em, meta, where)));
    for (const id of ids) if (typeof id === 'object' && id !== null) rows.push(Utils.isEntity(id) ? (id as Row) : entityShaped(meta, id));
  }
  // A bare key says nothing of the row's old values (an entity given does): queries watching those are reached through the rows-unknown tags.
  const oldValuesUnknown = !ids || ids.length === 0 || ids.some((id) => typeof id !== 'object');
  const tags = [...new Set([...computation.run(() => tagsOfRows(meta, rows)), ...(oldValuesUnknown ? unknownRowTags(meta) : [])])];
  await recordWrite(subscribers, transactionOf(em), tags, { orm: 'mikro-orm', operation: 'invalidateEntities', entity: meta.className }, computation.failures);
  return tags;
}
