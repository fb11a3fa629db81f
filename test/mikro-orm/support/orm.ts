import { MikroORM, type Options } from '@mikro-orm/core';
import { MySqlDriver } from '@mikro-orm/mysql';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { defineCacheTagsConfig, type CacheTagsSubscriberOptions } from '../../../lib/mikro-orm/index.js';
import { scratchMariaDbDatabase, scratchPostgresDatabase } from '../../support/scratch-databases.js';
import { MARIADB, POSTGRES, needs } from '../../support/servers.js';
import { entities } from './model.js';
import { createSchema, sqliteInMemory } from './versions.js';

/** A database the suites run against: SQLite in memory, and throw-away PostgreSQL and MariaDB databases. */
export interface DatabaseCase {
  name: 'sqlite' | 'postgres' | 'mariadb';
  skip: string | false;
  /** Base MikroORM options for a fresh database; `drop` removes it. */
  create(): Promise<{ options: Options; drop: () => Promise<void> }>;
}

export const databaseCases: DatabaseCase[] = [
  {
    name: 'sqlite',
    skip: false,
    create: async () => ({ options: { ...sqliteInMemory(), entities }, drop: async () => undefined }),
  },
  {
    name: 'postgres',
    ...needs('postgres'),
    create: async () => {
      const { database: dbName, drop } = await scratchPostgresDatabase('ct_mikro');
      return {
        options: { driver: PostgreSqlDriver, dbName, host: POSTGRES.host, port: POSTGRES.port, user: POSTGRES.username, entities },
        drop,
      };
    },
  },
  {
    name: 'mariadb',
    ...needs('mariadb'),
    create: async () => {
      const { database: dbName, drop } = await scratchMariaDbDatabase('ct_mikro');
      return {
        options: { driver: MySqlDriver, dbName, host: MARIADB.host, port: MARIADB.port, user: MARIADB.username, password: MARIADB.password, entities },
        drop,
      };
    },
  },
];

/** An initialised ORM with cache-tags wired in and the schema created. */
export async function openOrm(db: DatabaseCase, options: CacheTagsSubscriberOptions = {}, extra: Partial<Options> = {}): Promise<{ orm: MikroORM; close: () => Promise<void> }> {
  const { options: base, drop } = await db.create();
  const orm = await MikroORM.init(defineCacheTagsConfig({ ...base, ...extra, allowGlobalContext: true, debug: false }, options));
  await createSchema(orm);
  return {
    orm,
    close: async () => {
      await orm.close(true);
      await drop();
    },
  };
}
