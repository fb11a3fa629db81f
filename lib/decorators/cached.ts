import { resolveTagCache } from '../core/cache-registry.js';
import { CacheTagsError } from '../core/errors.js';
import { encodeArguments } from '../core/keys.js';
import { TagCache } from '../core/tag-cache.js';
import { assertTags, describe } from '../core/tracking-scope.js';
import { isStandardContext, nameOf } from './decorator-target.js';

/**
 * Options of {@link Cached}.
 * @public
 */
export interface CachedOptions<A extends unknown[] = any[]> {
  /** Tags of the result: a list, or a function of the method's arguments. */
  tags?: readonly string[] | ((...args: A) => readonly string[]);
  /** Builds the cache key from the arguments. Default: class name, method name and a stable encoding of the arguments. */
  key?: (...args: A) => string;
  /** Time to live in ms (0: no expiry). Default: the cache's `ttl`. */
  ttl?: number;
  /** The cache to use: an instance, or a name given to `registerTagCache`. Default: the default cache. */
  cache?: TagCache | string;
}

type AnyFunction = (this: unknown, ...args: any[]) => unknown;

/** Labels (`Class.method`) already used for default keys, and by which method. */
const claimed = new Map<string, AnyFunction>();

function normalize(options: unknown): CachedOptions {
  if (Array.isArray(options) || typeof options === 'function') return { tags: options as CachedOptions['tags'] };
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw new CacheTagsError('E_INVALID_OPTION', `@Cached expects options, a tag list or a tag function, got ${describe(options)}`);
  }
  return options as CachedOptions;
}

function validate(options: CachedOptions, where: string): void {
  const { tags, key, ttl, cache } = options;
  if (tags !== undefined && typeof tags !== 'function') assertTags(tags, `${where} option tags`);
  if (key !== undefined && typeof key !== 'function') {
    throw new CacheTagsError('E_INVALID_OPTION', `${where}: option key must be a function of the arguments, got ${describe(key)}`);
  }
  if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0)) {
    throw new CacheTagsError('E_INVALID_OPTION', `${where}: option ttl must be a non-negative number of milliseconds, got ${describe(ttl)}`);
  }
  if (cache !== undefined && typeof cache !== 'string' && !(cache instanceof TagCache)) {
    throw new CacheTagsError('E_INVALID_OPTION', `${where}: option cache must be a TagCache or the name of a registered one, got ${describe(cache)}`);
  }
}

/** The class that declares `method`, found from the receiver of a call. */
function declaringClassName(receiver: unknown, method: AnyFunction, name: string | symbol): string {
  for (let o: any = receiver; o; o = Object.getPrototypeOf(o)) {
    if (Object.getOwnPropertyDescriptor(o, name)?.value === method) {
      return typeof o === 'function' ? o.name : (o.constructor?.name ?? 'Anonymous');
    }
  }
  return typeof receiver === 'function' ? receiver.name : ((receiver as object | undefined)?.constructor?.name ?? 'Anonymous');
}

function wrapMethod(original: AnyFunction, methodKey: string | symbol, options: CachedOptions): AnyFunction {
  const methodName = nameOf(methodKey);
  let label: string | undefined;
  const { tags, key, ttl } = options;

  // async: a bad argument or tag is a rejection, like every other failure of a method that returns a Promise.
  const cached = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
    if (label === undefined) {
      label = `${declaringClassName(this, cached, methodKey)}.${methodName}`;
      if (!key) {
        const owner = claimed.get(label);
        if (owner && owner !== cached) {
          throw new CacheTagsError(
            'E_INVALID_KEY',
            `@Cached on ${label}: another class is also named ${label.split('.')[0]} and has a cached ${methodName}; their default keys would collide. Rename one, or give @Cached a key function`,
          );
        }
        claimed.set(label, cached);
      }
    }
    const where = `@Cached on ${label}`;
    const cacheKey = key ? key(...args) : `${label}(${encodeArguments(args, where)})`;
    if (typeof cacheKey !== 'string' || cacheKey.length === 0) {
      throw new CacheTagsError('E_INVALID_KEY', `${where}: the key function must return a non-empty string, got ${describe(cacheKey)}`);
    }
    const entryTags = typeof tags === 'function' ? tags(...args) : (tags ?? []);
    assertTags(entryTags, `${where}: tags`);
    const cache = resolveTagCache(options.cache);
    return cache.wrap(cacheKey, () => original.apply(this, args), { tags: [...entryTags], ttl });
  };
  Object.defineProperty(cached, 'name', { value: original.name });
  return cached;
}

/**
 * Method decorator: caches the method's result in a {@link TagCache}, keyed by class, method and
 * arguments, and invalidated through its tags. The decorated method always returns a Promise.
 * Works with TypeScript's `experimentalDecorators` and with standard (TC39) decorators, on
 * instance and static methods.
 *
 * @example
 * ```ts
 * class PhotoService {
 *   @Cached({ tags: (id: number) => [`Photo_${id}`], ttl: 60_000 })
 *   async getPhoto(id: number) { ... }
 *
 *   @Cached(['Photo'])            // any Photo write invalidates it
 *   async countPhotos() { ... }
 * }
 * ```
 * @public
 */
export function Cached<A extends unknown[] = any[]>(options?: CachedOptions<A> | readonly string[] | ((...args: A) => readonly string[])) {
  const opts = normalize(options);
  validate(opts, '@Cached');
  return function (target: any, context: any, descriptor?: PropertyDescriptor): any {
    if (isStandardContext(context)) {
      if (context.kind !== 'method' || typeof target !== 'function') {
        throw new CacheTagsError('E_DECORATOR_TARGET', `@Cached decorates methods, not a ${context.kind} (${nameOf(context.name)})`);
      }
      return wrapMethod(target as AnyFunction, context.name ?? 'anonymous', opts);
    }
    const owner = typeof target === 'function' ? target.name : (target?.constructor?.name ?? 'Anonymous');
    const member = `${owner}.${nameOf(context)}`;
    if (!descriptor || typeof descriptor.value !== 'function') {
      const what = descriptor?.get || descriptor?.set ? 'an accessor' : descriptor ? 'a non-function member' : 'a property or class';
      throw new CacheTagsError('E_DECORATOR_TARGET', `@Cached decorates methods, not ${what} (${member})`);
    }
    validate(opts, `@Cached on ${member}`);
    descriptor.value = wrapMethod(descriptor.value as AnyFunction, context as string | symbol, opts);
    return descriptor;
  };
}
