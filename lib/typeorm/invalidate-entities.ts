import { EntityManager, type DataSource, type EntityTarget, type ObjectLiteral } from 'typeorm';
import { CacheTagsError } from '../core/index.js';
import { describe } from '../core/tracking-scope.js';
import { checkInvalidateArguments, collectTagFailures, notInstalled, unknownEntity } from '../orm/index.js';
import { findCacheTagsSubscriber, isDataSource } from './install.js';
import { metadataTypeTags, rowTags, unknownRowTags } from './entity-tags.js';
import { entityRow, keyOf, rowsByKeys } from './rows.js';

/**
 * Invalidates what a write that no hook sees (raw SQL, a write with listeners switched off) changed
 * in `entity`: its type-level tag, and for each of `ids` the tags of the row as it is now. An id is
 * a primary-key value, or an object holding the primary key; an object (an entity you still hold)
 * is also tagged as given, which covers rows that are already deleted. Without ids, or with a bare
 * key (which says nothing of the row's old values), the entity's rows-unknown tags are invalidated
 * too, so cached queries watching an old value are reached (docs/query-cache.md).
 *
 * Pass the transaction's `EntityManager` inside a transaction: the rows are read in it and the
 * invalidation waits for its end, like every other write's.
 * The same shape as MikroORM's (docs/orm-contract.md).
 * @returns the tags invalidated (or buffered).
 * @throws CacheTagsError `E_INVALID_OPTION` when cache-tags is not installed on the DataSource, or an argument is wrong.
 * @public
 */
export async function invalidateEntities<T extends ObjectLiteral>(
  dataSourceOrManager: DataSource | EntityManager,
  entity: EntityTarget<T>,
  ids?: readonly unknown[],
): Promise<string[]> {
  checkInvalidateArguments(entity, ids);
  return collectTagFailures(() => invalidate(dataSourceOrManager, entity, ids));
}

async function invalidate<T extends ObjectLiteral>(dataSourceOrManager: DataSource | EntityManager, entity: EntityTarget<T>, ids: readonly unknown[] | undefined): Promise<string[]> {
  const manager = dataSourceOrManager instanceof EntityManager ? dataSourceOrManager : undefined;
  const dataSource: DataSource = manager ? ((manager as { dataSource?: DataSource }).dataSource ?? manager.connection) : (dataSourceOrManager as DataSource);
  if (!isDataSource(dataSource)) {
    throw new CacheTagsError('E_INVALID_OPTION', `invalidateEntities: the first argument must be a TypeORM DataSource or EntityManager, got ${describe(dataSourceOrManager)}`);
  }
  const subscriber = findCacheTagsSubscriber(dataSource);
  if (!subscriber) throw notInstalled('DataSource');
  if (!dataSource.hasMetadata(entity)) throw unknownEntity(entity);
  const metadata = dataSource.getMetadata(entity);
  // A bare key says nothing of the row's old values (an entity given does): queries watching those are reached through the rows-unknown tags.
  const oldValuesUnknown = !ids || ids.length === 0 || ids.some((id) => typeof id !== 'object');
  const tags = new Set(oldValuesUnknown ? unknownRowTags(metadata) : metadataTypeTags(metadata));
  if (ids && ids.length > 0) {
    const primary = metadata.primaryColumns;
    const keys = ids.map((id) => (typeof id === 'object' && id !== null ? keyOf(primary, id) : [id]));
    const queryRunner = manager?.queryRunner;
    for (const tag of rowTags(metadata, await rowsByKeys(dataSource, queryRunner, metadata, primary, keys))) tags.add(tag);
    const given = ids.filter((id): id is object => typeof id === 'object' && id !== null).map((entity) => entityRow(metadata, entity));
    for (const tag of rowTags(metadata, given)) tags.add(tag);
  }
  const list = [...tags];
  await subscriber.invalidator.record(manager?.queryRunner, list, { orm: 'typeorm', operation: 'invalidate-entities', entity: metadata.targetName });
  return list;
}
