import { connect } from 'node:net';

/** The servers the benchmarks use when they answer; same defaults as the test suites. */
export const REDIS_URL = process.env.CACHE_TAGS_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const POSTGRES = { host: '127.0.0.1', port: 5432, username: process.env.PGUSER ?? 'root', database: 'test' };

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

/** Host and port of a `redis://` URL. */
export function redisAddress(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 6379) };
}
