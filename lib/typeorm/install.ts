import type { DataSource } from 'typeorm';
import { CacheTagsError, type TagCache } from '../core/index.js';
import { describe } from '../core/tracking-scope.js';
import { CacheTagsSubscriber } from './subscriber.js';

/**
 * Options of {@link installCacheTags}.
 * @public
 */
export interface InstallCacheTagsOptions {
  /** The cache to invalidate: an instance or the name given to `registerTagCache`. Default: the default cache. */
  cache?: TagCache | string;
}

/** The cache-tags subscriber of `dataSource`, if it has one. */
export function findCacheTagsSubscriber(dataSource: DataSource): CacheTagsSubscriber | undefined {
  return dataSource.subscribers.find((s): s is CacheTagsSubscriber => s instanceof CacheTagsSubscriber);
}

/**
 * Makes every write through `dataSource` invalidate the tags of the rows it changed: adds the
 * {@link CacheTagsSubscriber} and wraps the TypeORM write query builders so that bulk writes
 * (`update`, `delete`, `softDelete`, `restore`, `upsert`, `increment`, query builders, relation
 * query builders) know which rows they change. Call it once, after `dataSource.initialize()`.
 * Calling it again returns the installed subscriber (switched to `options.cache` if given).
 * @throws CacheTagsError `E_INVALID_OPTION` when `dataSource` is not an initialized DataSource.
 * @public
 */
export function installCacheTags(dataSource: DataSource, options: InstallCacheTagsOptions = {}): CacheTagsSubscriber {
  if (typeof dataSource !== 'object' || dataSource === null || !Array.isArray((dataSource as Partial<DataSource>).subscribers)) {
    throw new CacheTagsError('E_INVALID_OPTION', `installCacheTags: the first argument must be a TypeORM DataSource, got ${describe(dataSource)}`);
  }
  if (!dataSource.isInitialized) {
    // initialize() replaces the subscriber list, so a subscriber added before it would be lost.
    throw new CacheTagsError(
      'E_INVALID_OPTION',
      'installCacheTags: the DataSource is not initialized; call it after `await dataSource.initialize()`, or list CacheTagsSubscriber in the DataSource options `subscribers`',
    );
  }
  const existing = findCacheTagsSubscriber(dataSource);
  if (existing) {
    if (options.cache !== undefined) existing.invalidator.cache = options.cache;
    return existing;
  }
  const subscriber = new CacheTagsSubscriber(options);
  dataSource.subscribers.push(subscriber);
  return subscriber;
}
