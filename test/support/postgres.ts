import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { POSTGRES } from './servers.js';

async function onServer(sql: string): Promise<void> {
  const client = new Client({ host: POSTGRES.host, port: POSTGRES.port, user: POSTGRES.username, database: POSTGRES.database });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A PostgreSQL database of the caller's own, created now, so that suites and benchmarks running
 * side by side never share tables; `drop` removes it with whatever is still connected.
 */
export async function scratchPostgresDatabase(prefix: string): Promise<{ database: string; drop: () => Promise<void> }> {
  const database = `${prefix}_${randomBytes(6).toString('hex')}`;
  await onServer(`CREATE DATABASE ${database}`);
  return { database, drop: () => onServer(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`) };
}
