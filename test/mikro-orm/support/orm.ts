import { randomBytes } from 'node:crypto';
import { MikroORM, type Options } from '@mikro-orm/core';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { SqliteDriver } from '@mikro-orm/sqlite';
import { defineCacheTagsConfig, type CacheTagsSubscriberOptions } from '../../../lib/mikro-orm/index.js';
import { POSTGRES, needs } from '../../support/servers.js';
import { entities } from './model.js';

/** A database the suites run against: SQLite in memory, and a throw-away PostgreSQL database. */
export interface DatabaseCase {
  name: 'sqlite' | 'postgres';
  skip: string | false;
  /** Base MikroORM options for a fresh database; `drop` removes it. */
  create(): Promise<{ options: Options; drop: () => Promise<void> }>;
}

interface PgClient {
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Client } = require('pg') as { Client: new (config: object) => PgClient };

async function admin<T>(fn: (client: PgClient) => Promise<T>): Promise<T> {
  const client = new Client({ host: POSTGRES.host, port: POSTGRES.port, user: POSTGRES.username, database: POSTGRES.database });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export const databaseCases: DatabaseCase[] = [
  {
    name: 'sqlite',
    skip: false,
    create: async () => ({ options: { driver: SqliteDriver, dbName: ':memory:', entities }, drop: async () => undefined }),
  },
  {
    name: 'postgres',
    ...needs('postgres'),
    create: async () => {
      const dbName = `ct_mikro_${randomBytes(6).toString('hex')}`;
      await admin((c) => c.query(`CREATE DATABASE ${dbName}`));
      return {
        options: { driver: PostgreSqlDriver, dbName, host: POSTGRES.host, port: POSTGRES.port, user: POSTGRES.username, entities },
        drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)).then(() => undefined),
      };
    },
  },
];

/** An initialised ORM with cache-tags wired in and the schema created. */
export async function openOrm(db: DatabaseCase, options: CacheTagsSubscriberOptions = {}, extra: Partial<Options> = {}): Promise<{ orm: MikroORM; close: () => Promise<void> }> {
  const { options: base, drop } = await db.create();
  const orm = await MikroORM.init(defineCacheTagsConfig({ ...base, ...extra, allowGlobalContext: true, debug: false }, options));
  await orm.schema.createSchema();
  return {
    orm,
    close: async () => {
      await orm.close(true);
      await drop();
    },
  };
}
