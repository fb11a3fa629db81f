import type { Options } from '@mikro-orm/core';
import { CacheTagsError } from '../core/errors.js';
import { resolveOrmOptions } from '../orm/index.js';
import { CacheTagsEntityManager } from './entity-manager.js';
import { coverQueryBuilderWrites } from './query-builder-hook.js';
import { CacheTagsSubscriber, type CacheTagsSubscriberOptions } from './subscriber.js';

/**
 * The one set-up step: returns `config` with cache-tags wired in, for `MikroORM.init(...)`.
 * It adds a {@link CacheTagsSubscriber} (flush, many-to-many, cascades, transactions), sets
 * `entityManager` to {@link CacheTagsEntityManager} (native writes and raw `em.execute`), and
 * hooks query-builder writes. Calling it again on its result (or `installCacheTags` on the ORM)
 * switches that subscriber to the options given: never a second one (docs/orm-contract.md).
 *
 * @example
 * ```ts
 * const orm = await MikroORM.init(defineCacheTagsConfig({ entities: [Photo, User], dbName: 'app.db' }, { cache }));
 * ```
 * @throws CacheTagsError `E_INVALID_OPTION` when `config.entityManager` is a class that does not extend `CacheTagsEntityManager`, or an option is wrong.
 * @public
 */
export function defineCacheTagsConfig<C extends Partial<Options>>(config: C, options: CacheTagsSubscriberOptions = {}): C {
  resolveOrmOptions('defineCacheTagsConfig', options);
  const entityManager = config.entityManager as Function | undefined;
  if (entityManager && entityManager !== CacheTagsEntityManager && !(entityManager.prototype instanceof CacheTagsEntityManager)) {
    throw new CacheTagsError(
      'E_INVALID_OPTION',
      `defineCacheTagsConfig: option entityManager (${entityManager.name}) must extend CacheTagsEntityManager from cache-tags/mikro-orm, or native writes would not invalidate`,
    );
  }
  const subscribers = [...(config.subscribers ?? [])];
  const existing = subscribers.find((s): s is CacheTagsSubscriber => s instanceof CacheTagsSubscriber);
  if (existing) existing.configure(options, 'defineCacheTagsConfig');
  else if (!subscribers.includes(CacheTagsSubscriber)) subscribers.push(new CacheTagsSubscriber(options));
  coverQueryBuilderWrites();
  return { ...config, entityManager: entityManager ?? CacheTagsEntityManager, subscribers };
}
