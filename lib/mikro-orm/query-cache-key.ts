import { RawQueryFragment, Reference, Utils, helper, type EntityManager, type EntityMetadata, type MetadataStorage } from '@mikro-orm/core';
import { shortHash } from '../core/keys.js';
import { allMetadata } from './sql-package.js';

/*
 * What a cached result depends on besides the tag versions, for its key (`queryCacheKey` hashes
 * it): the database, the mapping, the entity, the method, the processed condition (filters
 * applied), every find option that shapes the result, and the entity manager's filter state
 * (which also filters populated relations). MikroORM's own result cache keys on the JSON of
 * these, where a regular expression and a raw fragment's process-local key lose what they stand
 * for; here a raw fragment is spelled by its content, an entity by its primary key, and the rest
 * is left to the key (`queryCacheKey` spells a regular expression by its source and flags).
 */

/** Options that do not change what the query returns (`visited`: MikroORM's own set of the entities a populate has reached). */
const IGNORED = new Set(['cache', 'ctx', 'logging', 'loggerContext', 'flushMode', 'refresh', 'schema', 'strategy', 'visited']);

function rawKey(key: string): string {
  const raw = RawQueryFragment.isKnownFragment(key) ? RawQueryFragment.getKnownFragment(key, false) : undefined;
  return raw ? `[raw]${JSON.stringify([raw.sql, keyable(raw.params)])}` : key;
}

/** A JSON-like form of a condition or option value that says what it stands for. */
function keyable(value: unknown): unknown {
  if (value instanceof RawQueryFragment) return { $raw: [value.sql, keyable(value.params)] };
  if (typeof value === 'string' && RawQueryFragment.isKnownFragment(value)) return { $raw: rawKey(value) };
  if (Array.isArray(value)) return value.map(keyable);
  if (value === null || typeof value !== 'object') return value;
  if (Reference.isReference(value) || Utils.isEntity(value)) {
    const entity = Reference.unwrapReference(value);
    return { $entity: [helper(entity).__meta.className, keyable(helper(entity).getPrimaryKey())] };
  }
  // The key spells built-in values (a RegExp, a Date, a Map) by their content and refuses other class instances.
  if (!Utils.isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) out[rawKey(key)] = keyable(inner);
  return out;
}

/** An `orderBy` keeps its order (the key's object keys are sorted): `[[field, direction], ...]`. */
function ordering(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(ordering);
  if (!Utils.isPlainObject(value)) return keyable(value);
  return Object.entries(value).map(([key, inner]) => [rawKey(key), ordering(inner)]);
}

/** Which database: two ORMs (or schemas) may share one cache. Credentials stay out. */
function databaseOf(em: EntityManager): unknown {
  const config = em.config;
  let url = config.get('clientUrl');
  try {
    if (url) url = ((u) => `${u.protocol}//${u.host}${u.pathname}`)(new URL(url));
  } catch {
    url = undefined;
  }
  return { driver: config.get('driver')?.name ?? null, url: url ?? null, host: config.get('host') ?? null, port: config.get('port') ?? null, dbName: config.get('dbName') ?? null };
}

const fingerprints = new WeakMap<MetadataStorage, string>();

/** A digest of the mapping: a deploy that changes an entity starts a fresh key space, so no hit revives data of another shape. */
function mappingOf(metadata: MetadataStorage): string {
  let fingerprint = fingerprints.get(metadata);
  if (fingerprint) return fingerprint;
  const metas = allMetadata(metadata).map((meta) => [
    meta.className,
    meta.tableName ?? null,
    meta.schema ?? null,
    meta.props.map((prop) => [prop.name, prop.kind, prop.type, prop.fieldNames ?? null, prop.nullable ?? null, prop.targetMeta?.className ?? null]),
  ]);
  fingerprint = shortHash(JSON.stringify(metas.sort((a, b) => String(a[0]).localeCompare(String(b[0])))));
  fingerprints.set(metadata, fingerprint);
  return fingerprint;
}

interface FilterState {
  /** MikroORM 6 only: 7 keeps the entity manager's own filters in a #private field. */
  filters?: Record<string, { cond?: unknown; default?: boolean; entity?: unknown }>;
}

/**
 * The parameters set on this entity manager for every filter it knows of (the config's, the
 * entities', its own), and, on MikroORM 6, the filters added to it (`em.addFilter`), a function
 * condition by its source.
 */
function filtersOf(em: EntityManager): unknown {
  const { filters: own = {} } = em as unknown as FilterState;
  const names = new Set([...Object.keys(em.config.get('filters') ?? {}), ...Object.keys(own)]);
  for (const meta of allMetadata(em)) for (const name of Object.keys(meta.filters ?? {})) names.add(name);
  const params = [...names].sort().map((name) => [name, keyable(em.getFilterParams(name) ?? null)]);
  const added = Object.entries(own).map(([name, def]) => [name, typeof def.cond === 'function' ? Function.prototype.toString.call(def.cond) : keyable(def.cond), def.default ?? null, keyable(def.entity ?? null)]);
  return { added, params };
}

/** The description of one cached read that its key is a hash of. */
export function queryKeyDescription(em: EntityManager, meta: EntityMetadata, method: string, where: unknown, options: Record<string, unknown>): unknown {
  const shaping: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) {
    if (IGNORED.has(name) || value === undefined || (method === 'count' && name === 'orderBy')) continue;
    shaping[name] = name === 'orderBy' || name === 'populateOrderBy' ? ordering(value) : keyable(value);
  }
  return {
    db: databaseOf(em),
    mapping: mappingOf(em.getMetadata()),
    entity: meta.className,
    schema: (options.schema as string | undefined) ?? em.schema ?? meta.schema ?? null,
    method,
    where: keyable(where),
    options: shaping,
    filters: filtersOf(em),
  };
}
