import { DataSource, type DataSourceOptions, type Logger } from 'typeorm';
import { scratchMariaDbDatabase, scratchPostgresDatabase } from '../../support/scratch-databases.js';
import { MARIADB, POSTGRES, needs } from '../../support/servers.js';
import { entities } from './entities.js';

/** A database a suite runs against: SQLite in memory, and a PostgreSQL and a MariaDB database of its own. */
export interface DatabaseCase {
  name: 'sqlite' | 'postgres' | 'mariadb';
  skip: string | false;
  /** An initialized DataSource over a fresh, empty schema; `drop` removes it all. */
  open(extra?: { subscribers?: Function[]; entities?: Function[]; logger?: Logger }): Promise<{ dataSource: DataSource; drop: () => Promise<void> }>;
  /** An identifier quoted for raw SQL on this database. */
  quote(identifier: string): string;
}

/** Opens `options` and returns it with a `drop` that destroys it and then drops its scratch database. */
async function openScratch(options: DataSourceOptions, dropDatabase: () => Promise<void>) {
  const dataSource = new DataSource(options);
  await dataSource.initialize();
  return {
    dataSource,
    drop: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await dropDatabase();
    },
  };
}

const doubleQuoted = (identifier: string) => `"${identifier}"`;

export const databaseCases: DatabaseCase[] = [
  {
    name: 'sqlite',
    skip: false,
    quote: doubleQuoted,
    async open(extra = {}) {
      const dataSource = new DataSource({ type: 'better-sqlite3', database: ':memory:', entities, synchronize: true, ...extra });
      await dataSource.initialize();
      return { dataSource, drop: () => dataSource.destroy() };
    },
  },
  {
    name: 'postgres',
    ...needs('postgres'),
    quote: doubleQuoted,
    async open(extra = {}) {
      const { database, drop } = await scratchPostgresDatabase('ct_typeorm');
      return openScratch({ type: 'postgres', host: POSTGRES.host, port: POSTGRES.port, username: POSTGRES.username, database, entities, synchronize: true, ...extra }, drop);
    },
  },
  {
    name: 'mariadb',
    ...needs('mariadb'),
    quote: (identifier) => `\`${identifier}\``,
    async open(extra = {}) {
      const { database, drop } = await scratchMariaDbDatabase('ct_typeorm');
      const server = { host: MARIADB.host, port: MARIADB.port, username: MARIADB.username, password: MARIADB.password };
      return openScratch({ type: 'mariadb', ...server, database, entities, synchronize: true, ...extra }, drop);
    },
  },
];
