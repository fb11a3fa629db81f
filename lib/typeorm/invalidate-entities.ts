import { EntityManager, type DataSource, type EntityTarget, type ObjectLiteral } from 'typeorm';
import { CacheTagsError } from '../core/index.js';
import { metadataTypeTags, rowTags } from './entity-tags.js';
import { findCacheTagsSubscriber } from './install.js';
import { entityRow, keyOf, rowsByKeys } from './rows.js';

/**
 * Invalidates what a write that no hook sees (raw SQL, a write with listeners switched off) changed
 * in `entity`: its type-level tag, and for each of `ids` the tags of the row as it is now. An id is
 * a primary-key value, or an object holding the primary key; an object (an entity you still hold)
 * is also tagged as given, which covers rows that are already deleted.
 *
 * Pass the transaction's `EntityManager` inside a transaction: the rows are read in it and the
 * invalidation waits for its end, like every other write's.
 * @returns the tags invalidated (or buffered).
 * @throws CacheTagsError `E_INVALID_OPTION` when cache-tags is not installed on the DataSource.
 * @public
 */
export async function invalidateEntities<T extends ObjectLiteral>(
  dataSourceOrManager: DataSource | EntityManager,
  entity: EntityTarget<T>,
  ids?: readonly unknown[],
): Promise<string[]> {
  const manager = dataSourceOrManager instanceof EntityManager ? dataSourceOrManager : undefined;
  const dataSource: DataSource = manager ? ((manager as { dataSource?: DataSource }).dataSource ?? manager.connection) : (dataSourceOrManager as DataSource);
  const subscriber = findCacheTagsSubscriber(dataSource);
  if (!subscriber) {
    throw new CacheTagsError('E_INVALID_OPTION', 'invalidateEntities: cache-tags is not installed on this DataSource; call installCacheTags(dataSource, { cache }) first');
  }
  const metadata = dataSource.getMetadata(entity);
  const tags = new Set(metadataTypeTags(metadata));
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
