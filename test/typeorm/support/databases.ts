import { DataSource } from 'typeorm';
import { scratchPostgresDatabase } from '../../support/postgres.js';
import { POSTGRES, needs } from '../../support/servers.js';
import { entities } from './entities.js';

/** A database a suite runs against: SQLite in memory, and a PostgreSQL database of its own. */
export interface DatabaseCase {
  name: 'sqlite' | 'postgres';
  skip: string | false;
  /** An initialized DataSource over a fresh, empty schema; `drop` removes it all. */
  open(extra?: { subscribers?: Function[] }): Promise<{ dataSource: DataSource; drop: () => Promise<void> }>;
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
      const { database, drop } = await scratchPostgresDatabase('ct_typeorm');
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
          await drop();
        },
      };
    },
  },
];
