import { CacheTagsError, TagCache, type CacheTagsLogger } from '../core/index.js';
import { describe } from '../core/tracking-scope.js';

/**
 * Options of `installCacheTags` (and MikroORM's `defineCacheTagsConfig`): the same names, defaults
 * and errors in both ORM integrations (docs/orm-contract.md).
 * @public
 */
export interface CacheTagsOrmOptions {
  /**
   * The cache writes invalidate: an instance, or the name given to `registerTagCache` (looked up at
   * each write).
   * @default the default cache (`setDefaultTagCache`)
   */
  cache?: TagCache | string;
  /**
   * Receives, at `error` level (or `warn` when it has no `error`), each `@CacheTags` function that
   * failed during a write. Such a row is invalidated by its entity's type-level tags only, and the
   * write goes on; the failure also travels in the `invalidate` event's `source.tagFunctionFailures`.
   * @default none
   */
  logger?: CacheTagsLogger;
  /**
   * Tracked loads: an entity the ORM loads with every column inside a cached computation adds its
   * row tags to that computation.
   * @default true
   */
  trackLoads?: boolean;
  /**
   * Bulk writes: a statement (update, delete, soft delete, restore by criteria or query builder)
   * that changes more rows than this invalidates the entity's type-level tags instead of each
   * row's tags, and reads no rows to find out: one bounded invalidation, whatever the row count.
   * @default 1000
   */
  maxRowsPerWrite?: number;
  /**
   * How many levels of database `ON DELETE CASCADE` / `SET NULL` foreign keys a delete follows to
   * find the rows the database changes by itself; past it, the deepest entities' type-level tags
   * stand in for their rows.
   * @default 8
   */
  cascadeDepth?: number;
}

/** {@link CacheTagsOrmOptions} with every default applied. */
export interface ResolvedOrmOptions {
  cache: TagCache | string | undefined;
  logger: CacheTagsLogger | undefined;
  trackLoads: boolean;
  maxRowsPerWrite: number;
  cascadeDepth: number;
}

const KNOWN = new Set(['cache', 'logger', 'trackLoads', 'maxRowsPerWrite', 'cascadeDepth']);

function invalid(where: string, message: string): CacheTagsError {
  return new CacheTagsError('E_INVALID_OPTION', `${where}: ${message}`);
}

function count(where: string, name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw invalid(where, `option ${name} must be an integer ≥ ${min}, got ${describe(value)}`);
  return value;
}

/**
 * Checks the options given to an ORM integration (`where` names the call in errors) and applies
 * the defaults.
 * @throws CacheTagsError `E_INVALID_OPTION` naming the option that is wrong or unknown.
 */
export function resolveOrmOptions(where: string, options: unknown): ResolvedOrmOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalid(where, `options must be an object, got ${describe(options)}`);
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!KNOWN.has(key)) throw invalid(where, `unknown option ${key} (known: ${[...KNOWN].join(', ')})`);
  const { cache, logger, trackLoads } = o;
  if (cache !== undefined && !(typeof cache === 'string' && cache.length > 0) && !(cache instanceof TagCache)) {
    throw invalid(where, `option cache must be a TagCache or the name of a registered one, got ${describe(cache)}`);
  }
  if (logger !== undefined && (typeof logger !== 'object' || logger === null || typeof (logger as CacheTagsLogger).warn !== 'function')) {
    throw invalid(where, `option logger must be an object with a warn method (console fits), got ${describe(logger)}`);
  }
  if (trackLoads !== undefined && typeof trackLoads !== 'boolean') throw invalid(where, `option trackLoads must be a boolean, got ${describe(trackLoads)}`);
  return {
    cache: cache,
    logger: logger as CacheTagsLogger | undefined,
    trackLoads: trackLoads ?? true,
    maxRowsPerWrite: count(where, 'maxRowsPerWrite', o.maxRowsPerWrite, 1000, 1),
    cascadeDepth: count(where, 'cascadeDepth', o.cascadeDepth, 8, 0),
  };
}

/**
 * The options after installing again with `given` over `current`: options given replace, options
 * left out keep their current values (so a second install never silently resets the first's).
 * @throws CacheTagsError `E_INVALID_OPTION` naming the option that is wrong.
 */
export function mergeOrmOptions(where: string, current: ResolvedOrmOptions, given: unknown): ResolvedOrmOptions {
  resolveOrmOptions(where, given);
  const defined = Object.entries((given ?? {})).filter(([, value]) => value !== undefined);
  return resolveOrmOptions(where, { ...current, ...Object.fromEntries(defined) });
}
