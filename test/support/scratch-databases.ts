import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import { MARIADB, POSTGRES } from './servers.js';

/** A database of the caller's own on one server: created now, `drop` removes it. */
export interface ScratchDatabase {
  database: string;
  drop: () => Promise<void>;
}

/*
 * Suites and benchmarks running side by side never share tables: each creates a database of its
 * own, named by its prefix and a random suffix, through one short-lived admin connection per
 * statement.
 */
async function scratchDatabase(prefix: string, run: (sql: string) => Promise<void>, sql: { create: (db: string) => string; drop: (db: string) => string }): Promise<ScratchDatabase> {
  const database = `${prefix}_${randomBytes(6).toString('hex')}`;
  await run(sql.create(database));
  return { database, drop: () => run(sql.drop(database)) };
}

async function onPostgres(sql: string): Promise<void> {
  const client = new Client({ host: POSTGRES.host, port: POSTGRES.port, user: POSTGRES.username, database: POSTGRES.database });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function onMariaDb(sql: string): Promise<void> {
  const connection = await createConnection({ host: MARIADB.host, port: MARIADB.port, user: MARIADB.username, password: MARIADB.password });
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}

/** A PostgreSQL database of the caller's own; `drop` removes it with whatever is still connected. */
export function scratchPostgresDatabase(prefix: string): Promise<ScratchDatabase> {
  return scratchDatabase(prefix, onPostgres, { create: (db) => `CREATE DATABASE ${db}`, drop: (db) => `DROP DATABASE IF EXISTS ${db} WITH (FORCE)` });
}

/** A MariaDB database of the caller's own. */
export function scratchMariaDbDatabase(prefix: string): Promise<ScratchDatabase> {
  return scratchDatabase(prefix, onMariaDb, { create: (db) => `CREATE DATABASE \`${db}\``, drop: (db) => `DROP DATABASE IF EXISTS \`${db}\`` });
}
