import { resolveTagCache } from '../core/cache-registry.js';
import { CacheTagsError } from '../core/errors.js';
import { resolveLock, type LockOptions } from '../core/options.js';
import { TagCache } from '../core/tag-cache.js';
import { assertTags, describe } from '../core/tracking-scope.js';
import { defaultScopeOf } from './default-scope.js';
import { declarationSite } from './declaration-site.js';
import { isStandardContext, nameOf } from './decorator-target.js';
import { codeVersionOf, methodId, methodKey, type MethodKeyPlan } from './method-key.js';

/**
 * Options of {@link Cached}.
 * @public
 */
export interface CachedOptions<A extends unknown[] = any[], This = any, R = any> {
  /**
   * Tags of the result: a list, or a function of the method's arguments.
   * @default []
   */
  tags?: readonly string[] | ((...args: A) => readonly string[]);
  /**
   * Tags derived from the result, for ids known only once it is there:
   * `(photos) => photos.map((p) => `Photo_${p.id}`)`. It receives the resolved result and the
   * method's arguments; its tags are added to the computation before the value is stored, and
   * judged like tracked loads: a write that invalidated one of them after the computation began
   * keeps the value out of the cache (docs/consistency.md). If it throws (or returns anything but
   * a list of non-empty strings), the result is returned but not stored, and the error, naming the
   * method, goes to the cache's logger at `error` level and to the `stale` event.
   * @default none
   */
  resultTags?: (result: R, ...args: A) => readonly string[];
  /**
   * Builds the cache key from the arguments. The key is then yours, as returned: no class, method
   * or code version is added (a {@link CachedOptions.scope}, {@link CachedOptions.rowVersion} or
   * explicit {@link CachedOptions.codeVersion} still is, in front).
   * @default class, method, a hash of the declaration site and code version, and an injective encoding of the arguments
   */
  key?: (...args: A) => string;
  /**
   * Part of the key taken from the receiver, for providers whose instances serve different
   * tenants or requests: `(self) => self.tenantId`. Must return a value (not `undefined`/`null`).
   * `false` opts out of a cache's default scope ({@link setDefaultScope}).
   * @default the cache's default scope, if any; otherwise none
   */
  scope?: ((self: This) => unknown) | false;
  /**
   * A version the caller already holds, from the arguments: `(comment) => comment.updatedAt`. It is
   * part of the key, so a newer version is a fresh entry and an older one is never read again; a
   * hit needs no tag version (declare no `tags` for that). Not to be confused with
   * {@link CachedOptions.codeVersion}.
   * @default none
   */
  rowVersion?: (...args: A) => string | number | bigint | Date;
  /**
   * The version of the method's code. Entries stored under another code version are never read.
   * Give one to decide yourself when a deploy starts a fresh key space (say, when a helper the
   * method calls changes what it returns).
   * @default a short hash of the method's source, its `tags`, `resultTags` and `rowVersion` declarations
   */
  codeVersion?: string;
  /**
   * Time to live in ms (0: no expiry).
   * @default the cache's `ttl`
   */
  ttl?: number;
  /**
   * The cross-process single flight of the method's entries, for expensive methods: `true`,
   * `{ waitMs, ttlMs }` or `false` (see {@link LockOptions}). Not part of the key.
   * @default the cache's `lock`
   */
  lock?: boolean | LockOptions;
  /**
   * The cache to use: an instance, or a name given to `registerTagCache`.
   * @default the default cache
   */
  cache?: TagCache | string;
}

type AnyFunction = (this: unknown, ...args: any[]) => unknown;
type AsyncMethod = (...args: any[]) => Promise<unknown>;

/**
 * The decorator {@link Cached} returns. It applies to methods that return a Promise only: the
 * cached method always returns one, so a synchronous method would change type under its callers.
 * @public
 */
export interface CachedDecorator {
  /** TypeScript `experimentalDecorators`. */
  <T extends AsyncMethod>(target: object, name: string | symbol, descriptor: TypedPropertyDescriptor<T>): TypedPropertyDescriptor<T> | void;
  /** Standard (TC39) decorators. */
  <T extends AsyncMethod>(method: T, context: ClassMethodDecoratorContext<any, T>): T | void;
}

const KNOWN_OPTIONS = new Set(['tags', 'resultTags', 'key', 'scope', 'rowVersion', 'codeVersion', 'ttl', 'lock', 'cache']);

function normalize(options: unknown): CachedOptions {
  if (Array.isArray(options) || typeof options === 'function') return { tags: options as CachedOptions['tags'] };
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw new CacheTagsError('E_INVALID_OPTION', `@Cached expects options, a tag list or a tag function, got ${describe(options)}`);
  }
  return options as CachedOptions;
}

function assertFunction(value: unknown, option: string, what: string, where: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new CacheTagsError('E_INVALID_OPTION', `${where}: option ${option} must be ${what}, got ${describe(value)}`);
  }
}

function validate(options: CachedOptions, where: string): void {
  const { tags, resultTags, key, scope, rowVersion, codeVersion, ttl, lock, cache } = options;
  for (const name of Object.keys(options)) {
    if (KNOWN_OPTIONS.has(name)) continue;
    const hint = name === 'version' ? ' (a version from the arguments is rowVersion; the version of the code is codeVersion)' : '';
    throw new CacheTagsError('E_INVALID_OPTION', `${where}: unknown option ${name}${hint}`);
  }
  if (tags !== undefined && typeof tags !== 'function') assertTags(tags, `${where} option tags`);
  assertFunction(resultTags, 'resultTags', 'a function of the result and the arguments', where);
  assertFunction(key, 'key', 'a function of the arguments', where);
  if (scope !== false) assertFunction(scope, 'scope', 'a function of the receiver, or false', where);
  assertFunction(rowVersion, 'rowVersion', 'a function of the arguments', where);
  if (codeVersion !== undefined && (typeof codeVersion !== 'string' || codeVersion.length === 0)) {
    throw new CacheTagsError('E_INVALID_OPTION', `${where}: option codeVersion must be a non-empty string, got ${describe(codeVersion)}`);
  }
  if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0)) {
    throw new CacheTagsError('E_INVALID_OPTION', `${where}: option ttl must be a non-negative number of milliseconds, got ${describe(ttl)}`);
  }
  resolveLock(lock, undefined, `${where}: option lock`);
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

function wrapMethod(original: AnyFunction, member: string | symbol, options: CachedOptions, site: string | undefined): AnyFunction {
  const methodName = nameOf(member);
  const { tags, ttl, lock } = options;
  const plan: MethodKeyPlan = {
    id: methodId(site, methodName, codeVersionOf(original, [tags, options.rowVersion, ...(options.resultTags ? [options.resultTags] : [])], options.codeVersion)),
    codeVersion: options.codeVersion,
    key: options.key,
    scope: options.scope || undefined,
    rowVersion: options.rowVersion,
  };
  let label: string | undefined;

  // async: a bad argument or tag is a rejection, like every other failure of a method that returns a Promise.
  const cached = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
    label ??= `${declaringClassName(this, cached, member)}.${methodName}`;
    const where = `@Cached on ${label}`;
    const cache = resolveTagCache(options.cache);
    const scope = options.scope === false ? undefined : (plan.scope ?? defaultScopeOf(cache));
    const cacheKey = methodKey(scope === plan.scope ? plan : { ...plan, scope }, label, this, args, where);
    const entryTags = typeof tags === 'function' ? tags(...(args as never[])) : (tags ?? []);
    assertTags(entryTags, `${where}: tags`);
    // Awaited here: an async function that returns a promise adopts it two microtask hops later.
    const value = await cache.wrap(cacheKey, () => original.apply(this, args), { tags: [...entryTags], ttl, lock, resultTags: resultTagsOf(options, args, where) });
    return value;
  };
  Object.defineProperty(cached, 'name', { value: original.name });
  return cached;
}

/** The option's function for one call, its failures named after the method. */
function resultTagsOf(options: CachedOptions, args: unknown[], where: string): ((value: unknown) => readonly string[]) | undefined {
  const { resultTags } = options;
  if (!resultTags) return undefined;
  return (value) => {
    let tags: unknown;
    try {
      tags = resultTags(value, ...args);
    } catch (error) {
      throw new CacheTagsError('E_INVALID_TAG', `${where}: option resultTags threw: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    assertTags(tags, `${where}: resultTags`);
    return tags;
  };
}

/**
 * Method decorator: caches the method's result in a {@link TagCache}, keyed by class, method,
 * code version, scope and arguments, and invalidated through its tags. It applies to methods
 * that return a Promise (a compile error otherwise). Works with TypeScript's
 * `experimentalDecorators` and with standard (TC39) decorators, on instance and static methods.
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
export function Cached<A extends unknown[] = any[], R = any>(options?: CachedOptions<A, any, R> | readonly string[] | ((...args: A) => readonly string[])): CachedDecorator {
  const opts = normalize(options);
  validate(opts, '@Cached');
  const decorator = function (target: any, context: any, descriptor?: PropertyDescriptor): any {
    const site = declarationSite(decorator);
    if (isStandardContext(context)) {
      if (context.kind !== 'method' || typeof target !== 'function') {
        throw new CacheTagsError('E_DECORATOR_TARGET', `@Cached decorates methods, not a ${context.kind} (${nameOf(context.name)})`);
      }
      return wrapMethod(target as AnyFunction, context.name ?? 'anonymous', opts, site);
    }
    const owner = typeof target === 'function' ? target.name : (target?.constructor?.name ?? 'Anonymous');
    const member = `${owner}.${nameOf(context)}`;
    if (!descriptor || typeof descriptor.value !== 'function') {
      const what = descriptor?.get || descriptor?.set ? 'an accessor' : descriptor ? 'a non-function member' : 'a property or class';
      throw new CacheTagsError('E_DECORATOR_TARGET', `@Cached decorates methods, not ${what} (${member})`);
    }
    validate(opts, `@Cached on ${member}`);
    descriptor.value = wrapMethod(descriptor.value as AnyFunction, context as string | symbol, opts, site);
    return descriptor;
  };
  return decorator as CachedDecorator;
}
