import { MikroORM, type Options } from '@mikro-orm/core';
import { MySqlDriver } from '@mikro-orm/mysql';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { defineCacheTagsConfig, installCacheTags, type CacheTagsSubscriberOptions } from '../../../lib/mikro-orm/index.js';
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

/** How a suite wires cache-tags in: through the config before `MikroORM.init`, or into the initialised ORM (as the NestJS module does). */
export type Wiring = 'defineCacheTagsConfig' | 'installCacheTags';

/** An initialised ORM with cache-tags wired in and the schema created. */
export async function openOrm(
  db: DatabaseCase,
  options: CacheTagsSubscriberOptions = {},
  extra: Partial<Options> = {},
  wiring: Wiring = 'defineCacheTagsConfig',
): Promise<{ orm: MikroORM; close: () => Promise<void> }> {
  const { options: base, drop } = await db.create();
  const config = { ...base, ...extra, allowGlobalContext: true, debug: false };
  const orm = await MikroORM.init(wiring === 'defineCacheTagsConfig' ? defineCacheTagsConfig(config, options) : config);
  if (wiring === 'installCacheTags') installCacheTags(orm, options);
  await createSchema(orm);
  return {
    orm,
    close: async () => {
      await orm.close(true);
      await drop();
    },
  };
}
