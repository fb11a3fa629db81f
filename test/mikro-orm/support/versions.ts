import { createRequire } from 'node:module';
import type { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import * as core from '@mikro-orm/core';
import type { MikroORM, Options } from '@mikro-orm/core';
import { mikroOrmMajor } from '../../../lib/mikro-orm/sql-package.js';

/*
 * What differs between MikroORM 6 (the main pass) and 7 (the mikro7 leg) for the suites: where the
 * decorators live, the SQLite driver, the schema generator's method names. The suites are written
 * once against this module; everything else they use has the same name in both.
 */

/** Loads a package of one major only, when the suites run on it. */
const load = createRequire(__filename);

type Decorators = Pick<typeof core, 'Entity' | 'PrimaryKey' | 'Property' | 'ManyToOne' | 'OneToMany' | 'ManyToMany'>;

// 7 moved them to @mikro-orm/decorators; `legacy` is the `experimentalDecorators` flavour these suites compile with.
const decorators = (mikroOrmMajor >= 7 ? load('@mikro-orm/decorators/legacy') : core) as Decorators;

export const { Entity, PrimaryKey, Property, ManyToOne, OneToMany, ManyToMany } = decorators;

/**
 * A SQLite database in memory. 6: better-sqlite3 (a native addon, built for the repository's Node 20).
 * 7 runs on Node 22, where that build does not load: `@mikro-orm/sql`'s driver over `node:sqlite`.
 */
export function sqliteInMemory(): Partial<Options> {
  if (mikroOrmMajor >= 7) {
    const { SqliteDriver, NodeSqliteDialect } = load('@mikro-orm/sql') as { SqliteDriver: Options['driver']; NodeSqliteDialect: new (dbName: string) => object };
    return { driver: SqliteDriver, dbName: ':memory:', driverOptions: new NodeSqliteDialect(':memory:') };
  }
  return { driver: (load('@mikro-orm/better-sqlite') as { BetterSqliteDriver: typeof BetterSqliteDriver }).BetterSqliteDriver, dbName: ':memory:' };
}

/** 7 renamed `createSchema` / `clearDatabase` to `create` / `clear`. */
interface SchemaGenerator7 {
  create(): Promise<void>;
  clear(): Promise<void>;
}

export function createSchema(orm: MikroORM): Promise<void> {
  return mikroOrmMajor >= 7 ? (orm.schema as unknown as SchemaGenerator7).create() : orm.schema.createSchema();
}

export function clearDatabase(orm: MikroORM): Promise<void> {
  return mikroOrmMajor >= 7 ? (orm.schema as unknown as SchemaGenerator7).clear() : orm.schema.clearDatabase();
}
