import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { POSTGRES, needs } from '../../support/servers.js';
import { entities } from './entities.js';

/** A database a suite runs against: SQLite in memory, and a PostgreSQL database of its own. */
export interface DatabaseCase {
  name: 'sqlite' | 'postgres';
  skip: string | false;
  /** An initialized DataSource over a fresh, empty schema; `drop` removes it all. */
  open(extra?: { subscribers?: Function[] }): Promise<{ dataSource: DataSource; drop: () => Promise<void> }>;
}

async function admin(sql: string): Promise<void> {
  const server = new DataSource({ type: 'postgres', host: POSTGRES.host, port: POSTGRES.port, username: POSTGRES.username, database: POSTGRES.database });
  await server.initialize();
  try {
    await server.query(sql);
  } finally {
    await server.destroy();
  }
}

export const databaseCases: DatabaseCase[] = [
  {
    name: 'sqlite',
    skip: false,
    async open(extra = {}) {
      const dataSource = new DataSource({ type: 'better-sqlite3', database: ':memory:', entities, synchronize: true, ...extra });
      await dataSource.initialize();
      return { dataSource, drop: () => dataSource.destroy() };
    },
  },
  {
    name: 'postgres',
    ...needs('postgres'),
    async open(extra = {}) {
      const database = `ct_typeorm_${randomBytes(6).toString('hex')}`;
      await admin(`CREATE DATABASE ${database}`);
      const dataSource = new DataSource({
        type: 'postgres',
        host: POSTGRES.host,
        port: POSTGRES.port,
        username: POSTGRES.username,
        database,
        entities,
        synchronize: true,
        ...extra,
      });
      await dataSource.initialize();
      return {
        dataSource,
        drop: async () => {
          if (dataSource.isInitialized) await dataSource.destroy();
          await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        },
      };
    },
  },
];
