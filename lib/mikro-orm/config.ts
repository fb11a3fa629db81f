import type { Options } from '@mikro-orm/core';
import { CacheTagsError } from '../core/errors.js';
import { CacheTagsEntityManager } from './entity-manager.js';
import { coverQueryBuilderWrites } from './query-builder-hook.js';
import { CacheTagsSubscriber, type CacheTagsSubscriberOptions } from './subscriber.js';

/**
 * The one set-up step: returns `config` with cache-tags wired in, for `MikroORM.init(...)`.
 * It adds a {@link CacheTagsSubscriber} (flush, many-to-many, cascades, transactions), sets
 * `entityManager` to {@link CacheTagsEntityManager} (native writes and raw `em.execute`), and
 * hooks query-builder writes. Calling it twice changes nothing more.
 *
 * @example
 * ```ts
 * const orm = await MikroORM.init(defineCacheTagsConfig({ entities: [Photo, User], dbName: 'app.db' }, { cache }));
 * ```
 * @throws CacheTagsError `E_INVALID_OPTION` when `config.entityManager` is a class that does not extend `CacheTagsEntityManager`.
 * @public
 */
export function defineCacheTagsConfig<C extends Options>(config: C, options: CacheTagsSubscriberOptions = {}): C {
  const entityManager = config.entityManager as Function | undefined;
  if (entityManager && entityManager !== CacheTagsEntityManager && !(entityManager.prototype instanceof CacheTagsEntityManager)) {
    throw new CacheTagsError(
      'E_INVALID_OPTION',
      `defineCacheTagsConfig: option entityManager (${entityManager.name}) must extend CacheTagsEntityManager from cache-tags/mikro-orm, or native writes would not invalidate`,
    );
  }
  const subscribers = [...(config.subscribers ?? [])];
  if (!subscribers.some((s) => s instanceof CacheTagsSubscriber || s === CacheTagsSubscriber)) subscribers.push(new CacheTagsSubscriber(options));
  coverQueryBuilderWrites();
  return { ...config, entityManager: entityManager ?? CacheTagsEntityManager, subscribers };
}
