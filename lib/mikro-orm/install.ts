import type { MikroORM } from '@mikro-orm/core';
import { SqlEntityManager } from '@mikro-orm/knex';
import { CacheTagsEntityManager } from './entity-manager.js';
import { coverQueryBuilderWrites } from './query-builder-hook.js';
import { CacheTagsSubscriber, subscribersOf, type CacheTagsSubscriberOptions } from './subscriber.js';

/**
 * Wires cache-tags into a MikroORM instance that is already initialised (what the NestJS module
 * does with the ORM `@mikro-orm/nestjs` created). Prefer {@link defineCacheTagsConfig} when you
 * write the config yourself. It registers a subscriber for `options.cache` (once per cache) and
 * hooks query-builder writes. The native writes (`nativeUpdate`, `insert`, `em.execute`, ...) are
 * covered when the ORM's entity manager is MikroORM's own `SqlEntityManager` (its global entity
 * manager is turned into a {@link CacheTagsEntityManager}, which its forks inherit) or already a
 * `CacheTagsEntityManager`; a different custom class must extend `CacheTagsEntityManager` for that.
 * @returns the subscriber that serves `options.cache`.
 * @public
 */
export function installCacheTags(orm: MikroORM, options: CacheTagsSubscriberOptions = {}): CacheTagsSubscriber {
  coverQueryBuilderWrites();
  const em = orm.em;
  if (Object.getPrototypeOf(em) === SqlEntityManager.prototype) {
    // Adds methods only (no instance state), so the live instance can take the subclass's prototype.
    Object.setPrototypeOf(em, CacheTagsEntityManager.prototype);
    orm.config.set('entityManager', CacheTagsEntityManager);
  }
  const existing = subscribersOf(em).find((s) => s.recorder.cache === options.cache);
  if (existing) return existing;
  const subscriber = new CacheTagsSubscriber(options);
  em.getEventManager().registerSubscriber(subscriber);
  // Forks asked for a fresh event manager build it from the config.
  orm.config.set('subscribers', [...orm.config.get('subscribers'), subscriber]);
  return subscriber;
}
