import { CacheTagsError } from '../core/index.js';
import { describe } from '../core/tracking-scope.js';

/**
 * Checks the arguments of `invalidateEntities(target, Entity, ids?)`, the one shape of both ORM
 * integrations: an entity class (or entity name) and, optionally, an array of primary-key values
 * or objects holding the primary key.
 * @throws CacheTagsError `E_INVALID_OPTION` naming the argument that is wrong.
 */
export function checkInvalidateArguments(entity: unknown, ids: unknown): asserts ids is readonly unknown[] | undefined {
  if (Array.isArray(entity)) {
    throw new CacheTagsError(
      'E_INVALID_OPTION',
      'invalidateEntities: the second argument is the entity class, not an array; write invalidateEntities(em, Photo, [photo.id]) (ids or entities in the third)',
    );
  }
  const named = (typeof entity === 'string' && entity.length > 0) || typeof entity === 'function' || (typeof entity === 'object' && entity !== null);
  if (!named) throw new CacheTagsError('E_INVALID_OPTION', `invalidateEntities: the second argument must be an entity class or entity name, got ${describe(entity)}`);
  if (ids !== undefined && !Array.isArray(ids)) {
    throw new CacheTagsError('E_INVALID_OPTION', `invalidateEntities: ids must be an array of primary keys or entities, got ${describe(ids)}`);
  }
  (ids ?? []).forEach((id: unknown, index: number) => {
    if (id === null || id === undefined) throw new CacheTagsError('E_INVALID_OPTION', `invalidateEntities: id ${index} is ${describe(id)}; give a primary key or an entity`);
  });
}

/** The error both integrations throw for an entity the ORM does not map. */
export function unknownEntity(entity: unknown): CacheTagsError {
  const name = typeof entity === 'function' ? entity.name : typeof entity === 'string' ? entity : describe(entity);
  return new CacheTagsError('E_INVALID_OPTION', `invalidateEntities: ${name} is not an entity of this ORM`);
}

/** The error both integrations throw when `invalidateEntities` is called on an ORM without cache-tags. */
export function notInstalled(what: string): CacheTagsError {
  return new CacheTagsError('E_INVALID_OPTION', `invalidateEntities: cache-tags is not installed on this ${what}; call installCacheTags first`);
}
