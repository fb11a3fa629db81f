import { connect } from 'node:net';

/*
 * The servers that suites and benchmarks may use. scripts/run-tests.mjs probes them and marks the
 * missing ones in the environment; a suite that needs one passes `needs(...)` to describe().
 */
/** The tests' own Redis database (9), so that a developer's data in database 0 is never touched. */
export const REDIS_URL = process.env.CACHE_TAGS_REDIS_URL ?? 'redis://127.0.0.1:6379/9';
export const POSTGRES = { host: '127.0.0.1', port: 5432, username: process.env.PGUSER ?? 'root', database: 'test' };
export const MARIADB = { host: '127.0.0.1', port: 3306, username: 'root', password: '', database: 'test' };

/** Every server a suite can need, with where it answers. */
export const SERVERS = [
  { name: 'redis', label: 'Redis', ...redisAddress(REDIS_URL) },
  { name: 'postgres', label: 'PostgreSQL', host: POSTGRES.host, port: POSTGRES.port },
  { name: 'mariadb', label: 'MariaDB', host: MARIADB.host, port: MARIADB.port },
] as const;

/** The name of a server a suite can need. */
export type ServerName = (typeof SERVERS)[number]['name'];

/** Host and port of a `redis://` URL. */
export function redisAddress(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 6379) };
}

/** Whether something accepts TCP connections at `host:port` within `timeoutMs`. */
export function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** `skip` option for a suite that needs `server`: false when it can run, else the reason. */
export function needs(server: ServerName): { skip: string | false } {
  const missing = process.env[`CACHE_TAGS_NO_${server.toUpperCase()}`] === '1';
  const label = SERVERS.find((s) => s.name === server)!.label;
  return { skip: missing ? `${label} is not reachable` : false };
}
