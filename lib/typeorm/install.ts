import type { DataSource } from 'typeorm';
import { CacheTagsError } from '../core/index.js';
import { describe } from '../core/tracking-scope.js';
import { isTypeOrmDataSource, resolveOrmOptions, type CacheTagsOrmOptions } from '../orm/index.js';
import { conditionFields } from './query-cache-fields.js';
import { CacheTagsSubscriber } from './subscriber.js';

/**
 * Options of {@link installCacheTags}: the options every ORM integration takes.
 * @public
 */
export type InstallCacheTagsOptions = CacheTagsOrmOptions;

/** The cache-tags subscriber of `dataSource`, if it has one. */
export function findCacheTagsSubscriber(dataSource: DataSource): CacheTagsSubscriber | undefined {
  return dataSource.subscribers.find((s): s is CacheTagsSubscriber => s instanceof CacheTagsSubscriber);
}

/** Whether `value` is a TypeORM DataSource (by its API: two copies of `typeorm` may be loaded). */
export function isDataSource(value: unknown): value is DataSource {
  return isTypeOrmDataSource(value);
}

/**
 * Makes every write through `dataSource` invalidate the tags of the rows it changed: adds the
 * {@link CacheTagsSubscriber} and wraps the TypeORM write query builders so that bulk writes
 * (`update`, `delete`, `softDelete`, `restore`, `upsert`, `increment`, query builders, relation
 * query builders) know which rows they change. Call it once, after `dataSource.initialize()`.
 * Calling it again returns the installed subscriber, switched to the options given (those left out
 * keep their values): never a second subscriber (docs/orm-contract.md).
 * @throws CacheTagsError `E_INVALID_OPTION` when `dataSource` is not an initialized DataSource, or an option is wrong.
 * @public
 */
export function installCacheTags(dataSource: DataSource, options: InstallCacheTagsOptions = {}): CacheTagsSubscriber {
  if (!isDataSource(dataSource)) {
    throw new CacheTagsError('E_INVALID_OPTION', `installCacheTags: the first argument must be a TypeORM DataSource, got ${describe(dataSource)}`);
  }
  resolveOrmOptions('installCacheTags', options);
  if (!dataSource.isInitialized) {
    // initialize() replaces the subscriber list, so a subscriber added before it would be lost.
    throw new CacheTagsError(
      'E_INVALID_OPTION',
      'installCacheTags: the DataSource is not initialized; call it after `await dataSource.initialize()`, or list CacheTagsSubscriber in the DataSource options `subscribers`',
    );
  }
  // A wrong @CacheTags conditionFields is reported here, not in the middle of a write.
  for (const metadata of dataSource.entityMetadatas) conditionFields(metadata);
  const existing = findCacheTagsSubscriber(dataSource);
  if (existing) {
    existing.configure(options, 'installCacheTags');
    return existing;
  }
  const subscriber = new CacheTagsSubscriber(options);
  dataSource.subscribers.push(subscriber);
  return subscriber;
}
