import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { POSTGRES } from '../../support/servers.js';

async function onServer(sql: string): Promise<void> {
  const admin = new DataSource({ type: 'postgres', ...POSTGRES });
  await admin.initialize();
  try {
    await admin.query(sql);
  } finally {
    await admin.destroy();
  }
}

/** A PostgreSQL database this suite alone uses, and the function that drops it. */
export async function createPostgresDatabase(): Promise<{ database: string; drop: () => Promise<void> }> {
  const database = `ct_nest_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await onServer(`CREATE DATABASE ${database}`);
  return { database, drop: () => onServer(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`) };
}
