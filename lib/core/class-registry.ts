import { CacheTagsError } from './errors.js';

/*
 * Classes whose instances may be cached: a hit must hand back an instance of the same class
 * (prototype, getters, methods), so the serializer records a class name and revives through this
 * registry. A name is what travels between processes, hence one class per name; a class whose
 * source is the same as the one registered under its name (a module evaluated again: hot reload,
 * a test runner's fresh module registry) takes the name over.
 */

type Constructor = abstract new (...args: any[]) => unknown;

/**
 * Options of {@link registerSerializableClass}.
 * @public
 */
export interface SerializableClassOptions {
  /** The name instances are stored under; unique per process. @default the class name */
  name?: string;
  /**
   * Fields left out of the cached copy (credentials, password hashes, secrets). A hit hands back an
   * instance without them, so leave out only what readers of the cached result never use.
   * Subclasses leave them out too.
   * @default []
   */
  omit?: readonly string[];
}

interface Registration {
  name: string;
  omit: ReadonlySet<string>;
}

const byName = new Map<string, Constructor>();
const byClass = new Map<Constructor, Registration>();

function sourceOf(cls: Function): string {
  return Function.prototype.toString.call(cls);
}

function isClass(value: unknown): value is Constructor {
  return typeof value === 'function' && /^class\b/.test(sourceOf(value));
}

/**
 * Lets instances of `cls` be cached and revived with their prototype. Classes decorated with
 * `@CacheTags` are registered already. The second argument is the name (kept for compatibility)
 * or {@link SerializableClassOptions}.
 * @throws CacheTagsError `E_DUPLICATE_CLASS` when another class, with other source, has the name.
 * @public
 */
export function registerSerializableClass(cls: Constructor, options: string | SerializableClassOptions = {}): void {
  if (typeof cls !== 'function') {
    throw new CacheTagsError('E_INVALID_OPTION', `registerSerializableClass: expected a class, got ${typeof cls}`);
  }
  const { name = cls.name, omit = [] } = typeof options === 'string' ? { name: options } : options;
  if (!name) {
    throw new CacheTagsError('E_INVALID_OPTION', 'registerSerializableClass: an anonymous class needs an explicit name');
  }
  if (!Array.isArray(omit) || !omit.every((field) => typeof field === 'string')) {
    throw new CacheTagsError('E_INVALID_OPTION', `registerSerializableClass(${name}): option omit must be an array of field names`);
  }
  const existing = byName.get(name);
  if (existing && existing !== cls && sourceOf(existing) !== sourceOf(cls)) {
    throw new CacheTagsError(
      'E_DUPLICATE_CLASS',
      `Two different classes are both registered as "${name}" for caching; give one of them another name (registerSerializableClass(cls, { name }) or @CacheTags(fn, { name }))`,
    );
  }
  byName.set(name, cls);
  byClass.set(cls, { name, omit: new Set(omit) });
}

/**
 * Registers every class among `classes`: a module's exports (`import * as dtos from './dtos'`)
 * or a list. Other exports (functions, constants) are skipped. Returns the names registered.
 * @public
 */
export function registerSerializableClasses(classes: Readonly<Record<string, unknown>> | readonly unknown[], options: Omit<SerializableClassOptions, 'name'> = {}): string[] {
  if (typeof classes !== 'object' || classes === null) {
    throw new CacheTagsError('E_INVALID_OPTION', `registerSerializableClasses: expected a module's exports or a list of classes, got ${typeof classes}`);
  }
  const found = (Array.isArray(classes) ? classes : Object.values(classes)).filter(isClass);
  for (const cls of found) registerSerializableClass(cls, options);
  return found.map((cls) => cls.name);
}

/** The registered name of a class, if any. */
export function serializableNameOf(cls: unknown): string | undefined {
  return byClass.get(cls as Constructor)?.name;
}

/** Fields left out of instances of `cls`: its own and those of registered parent classes. */
export function omittedFieldsOf(cls: Function): ReadonlySet<string> {
  let out: Set<string> | undefined;
  for (let c: any = cls; c && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    const omit = byClass.get(c)?.omit;
    if (omit && omit.size > 0) out = new Set([...(out ?? []), ...omit]);
  }
  return out ?? EMPTY;
}

const EMPTY: ReadonlySet<string> = new Set();

/** The class registered under `name`, if any. */
export function serializableClassNamed(name: string): Constructor | undefined {
  return byName.get(name);
}
