import { Utils, type EntityManager } from '@mikro-orm/core';
import { CacheTagsError } from '../core/errors.js';
import { describe } from '../core/tracking-scope.js';
import { typeTagsOf } from '../orm/index.js';
import { tagsOfRows } from './rows.js';
import { recordWrite, subscribersOf, transactionOf } from './subscriber.js';
import { WriteRecorder } from './write-recorder.js';

const fallback = new WriteRecorder(undefined);

/**
 * Invalidates what a write that cache-tags cannot see changed (SQL through
 * `em.getConnection().execute()` or `em.getKnex()`, a trigger, another program): for an entity
 * instance, its row tags and type-level tags; for an entity class, its type-level tags. Inside a
 * transaction of `em` the tags wait for its outermost commit or rollback, like any other write.
 *
 * @example
 * ```ts
 * await em.getConnection().execute('update photo set views = views + 1 where id = ?', [photo.id]);
 * await invalidateEntities(em, [photo]);      // or [Photo] for "any photo"
 * ```
 * @public
 */
export async function invalidateEntities(em: EntityManager, targets: ReadonlyArray<object | Function>): Promise<void> {
  if (!Array.isArray(targets)) {
    throw new CacheTagsError('E_INVALID_OPTION', `invalidateEntities: targets must be an array of entities or entity classes, got ${describe(targets)}`);
  }
  const tags = new Set<string>();
  targets.forEach((target, index) => {
    if (typeof target === 'function') {
      for (const tag of typeTagsOf(target)) tags.add(tag);
    } else if (Utils.isEntity(target)) {
      for (const tag of tagsOfRows(em.getMetadata().get(target.constructor.name), [target])) tags.add(tag);
    } else {
      throw new CacheTagsError('E_INVALID_OPTION', `invalidateEntities: target ${index} must be an entity or an entity class, got ${describe(target)}`);
    }
  });
  const source = { orm: 'mikro-orm', operation: 'invalidateEntities' } as const;
  const subscribers = subscribersOf(em);
  // Without a subscriber no transaction end is seen, so nothing may wait for one.
  if (subscribers.length > 0) await recordWrite(subscribers, transactionOf(em), [...tags], source);
  else await fallback.record(undefined, [...tags], source);
}
