import type { MikroORM } from '@mikro-orm/core';
import { CacheTagsError } from '../core/errors.js';
import { describe } from '../core/tracking-scope.js';
import { isMikroOrm, resolveOrmOptions } from '../orm/index.js';
import { coveringClassOf, coversNativeWrites } from './entity-manager.js';
import { coverQueryBuilderWrites } from './query-builder-hook.js';
import { sqlPackage } from './sql-package.js';
import { CacheTagsSubscriber, subscribersOf, type CacheTagsSubscriberOptions } from './subscriber.js';

/**
 * Wires cache-tags into a MikroORM instance that is already initialised (what the NestJS module
 * does with the ORM `@mikro-orm/nestjs` created). Prefer {@link defineCacheTagsConfig} when you
 * write the config yourself. It registers one {@link CacheTagsSubscriber} and hooks query-builder
 * writes; calling it again (or after {@link defineCacheTagsConfig}) returns that subscriber,
 * switched to the options given (those left out keep their values): never a second subscriber,
 * so no write is invalidated twice (docs/orm-contract.md). The native writes (`nativeUpdate`, `insert`, `em.execute`, ...) are
 * covered when the ORM's entity manager is MikroORM's own (`SqlEntityManager`, or the driver's
 * subclass of it such as MikroORM 7's `PostgreSqlEntityManager`: its global entity manager is turned
 * into a {@link CacheTagsEntityManager}, or a subclass of the driver's class with the same methods,
 * which its forks inherit) or already a `CacheTagsEntityManager`; a custom class set in the config
 * must extend `CacheTagsEntityManager` for that.
 * @returns the ORM's cache-tags subscriber.
 * @throws CacheTagsError `E_INVALID_OPTION` when `orm` is not a MikroORM instance, or an option is wrong.
 * @public
 */
export function installCacheTags(orm: MikroORM, options: CacheTagsSubscriberOptions = {}): CacheTagsSubscriber {
  if (!isMikroOrm(orm)) {
    throw new CacheTagsError('E_INVALID_OPTION', `installCacheTags: the first argument must be an initialised MikroORM, got ${describe(orm)}`);
  }
  resolveOrmOptions('installCacheTags', options);
  coverQueryBuilderWrites();
  const em = orm.em;
  const own = em.constructor === sqlPackage.SqlEntityManager || (orm.config.get('entityManager') === undefined && em instanceof sqlPackage.SqlEntityManager);
  if (own && !coversNativeWrites(em)) {
    // Adds methods only (no instance state), so the live instance can take the subclass's prototype.
    const covering = coveringClassOf(em.constructor);
    Object.setPrototypeOf(em, covering.prototype);
    orm.config.set('entityManager', covering as never);
  }
  const [existing] = subscribersOf(em);
  if (existing) {
    existing.configure(options, 'installCacheTags');
    return existing;
  }
  const subscriber = new CacheTagsSubscriber(options);
  em.getEventManager().registerSubscriber(subscriber);
  // Forks asked for a fresh event manager build it from the config.
  orm.config.set('subscribers', [...orm.config.get('subscribers'), subscriber]);
  return subscriber;
}
