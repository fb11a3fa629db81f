import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { MARIADB } from './servers.js';

async function onServer(sql: string): Promise<void> {
  const connection = await createConnection({ host: MARIADB.host, port: MARIADB.port, user: MARIADB.username, password: MARIADB.password });
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}

/**
 * A MariaDB database of the caller's own, created now, so that suites and benchmarks running side
 * by side never share tables; `drop` removes it.
 */
export async function scratchMariaDbDatabase(prefix: string): Promise<{ database: string; drop: () => Promise<void> }> {
  const database = `${prefix}_${randomBytes(6).toString('hex')}`;
  await onServer(`CREATE DATABASE \`${database}\``);
  return { database, drop: () => onServer(`DROP DATABASE IF EXISTS \`${database}\``) };
}
