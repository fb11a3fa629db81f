import { randomBytes } from 'node:crypto';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { POSTGRES } from './servers.js';

async function admin(sql: string): Promise<void> {
  const server = new DataSource({ type: 'postgres', host: POSTGRES.host, port: POSTGRES.port, username: POSTGRES.username, database: POSTGRES.database });
  await server.initialize();
  try {
    await server.query(sql);
  } finally {
    await server.destroy();
  }
}

/** A PostgreSQL database of the benchmark's own, created now; `drop` removes it. */
export async function scratchDatabase(): Promise<{ options: DataSourceOptions; drop: () => Promise<void> }> {
  const database = `ct_bench_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE DATABASE ${database}`);
  return {
    options: { type: 'postgres', host: POSTGRES.host, port: POSTGRES.port, username: POSTGRES.username, database },
    drop: () => admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`),
  };
}
