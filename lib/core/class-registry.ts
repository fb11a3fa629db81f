import { CacheTagsError } from './errors.js';

/*
 * Classes whose instances may be cached: a hit must hand back an instance of the same class
 * (prototype, getters, methods), so the serializer records a class name and revives through this
 * registry. A name is what travels between processes, hence one class per name.
 */

type Constructor = abstract new (...args: any[]) => unknown;

const byName = new Map<string, Constructor>();
const byClass = new Map<Constructor, string>();

/**
 * Lets instances of `cls` be cached and revived with their prototype. Classes decorated with
 * `@CacheTags` are registered already. `name` defaults to the class name and must be unique.
 * @public
 */
export function registerSerializableClass(cls: Constructor, name: string = cls.name): void {
  if (typeof cls !== 'function') {
    throw new CacheTagsError('E_INVALID_OPTION', `registerSerializableClass: expected a class, got ${typeof cls}`);
  }
  if (!name) {
    throw new CacheTagsError('E_INVALID_OPTION', 'registerSerializableClass: an anonymous class needs an explicit name');
  }
  const existing = byName.get(name);
  if (existing && existing !== cls) {
    throw new CacheTagsError(
      'E_DUPLICATE_CLASS',
      `Two different classes are both registered as "${name}" for caching; give one of them another name (registerSerializableClass(cls, name) or @CacheTags(fn, { name }))`,
    );
  }
  byName.set(name, cls);
  byClass.set(cls, name);
}

/** The registered name of a class, if any. */
export function serializableNameOf(cls: unknown): string | undefined {
  return byClass.get(cls as Constructor);
}

/** The class registered under `name`, if any. */
export function serializableClassNamed(name: string): Constructor | undefined {
  return byName.get(name);
}
