/*
 * Which servers the suites may use. scripts/run-tests.mjs probes them and marks the missing ones
 * in the environment; a suite that needs one passes `skip` to describe().
 */
export const REDIS_URL = process.env.CACHE_TAGS_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const POSTGRES = { host: '127.0.0.1', port: 5432, username: process.env.PGUSER ?? 'root', database: 'test' };

/** `skip` option for a suite that needs `server`: false when it can run, else the reason. */
export function needs(server: 'redis' | 'postgres'): { skip: string | false } {
  const missing = process.env[`CACHE_TAGS_NO_${server.toUpperCase()}`] === '1';
  const label = server === 'redis' ? 'Redis' : 'PostgreSQL';
  return { skip: missing ? `${label} is not reachable` : false };
}
