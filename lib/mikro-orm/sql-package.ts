import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Utils, type EntityManager, type EntityMetadata } from '@mikro-orm/core';
import type { QueryBuilder, SqlEntityManager } from '@mikro-orm/knex';
import { CacheTagsError } from '../core/errors.js';

/*
 * MikroORM's SQL layer is `@mikro-orm/knex` in 6 and `@mikro-orm/sql` (over kysely, ESM only) in 7:
 * the same two classes under the same names. The package is picked by the version of the
 * `@mikro-orm/core` loaded, never imported by name at the top, so that an application on 7 needs
 * no knex. The types are 6's, which 7 keeps for everything cache-tags calls.
 */

/** The major version of the `@mikro-orm/core` loaded. */
export const mikroOrmMajor = Number(Utils.getORMVersion().split('.')[0]);

/** What cache-tags takes from the SQL package. */
interface SqlPackage {
  SqlEntityManager: typeof SqlEntityManager;
  QueryBuilder: typeof QueryBuilder;
}

function loadSqlPackage(): SqlPackage {
  const name = mikroOrmMajor >= 7 ? '@mikro-orm/sql' : '@mikro-orm/knex';
  // The CommonJS build has its own `require` (which loads 7's ES modules too, Node 22); the ESM build resolves from the application's directory.
  const load = typeof require === 'function' ? require : createRequire(join(process.cwd(), 'index.js'));
  try {
    return load(name) as SqlPackage;
  } catch (cause) {
    throw new CacheTagsError('E_MISSING_PEER', `cache-tags/mikro-orm: MikroORM ${Utils.getORMVersion()} writes SQL through ${name}, which cannot be loaded: npm install ${name}`, { cause });
  }
}

/** The SQL package of the MikroORM loaded. */
export const sqlPackage = loadSqlPackage();

/** Every entity's metadata (6 keeps them in an object, 7 in a Map). */
export function allMetadata(em: EntityManager): EntityMetadata[] {
  const all = em.getMetadata().getAll() as Record<string, EntityMetadata> | Map<unknown, EntityMetadata>;
  return all instanceof Map ? [...all.values()] : Object.values(all);
}
