// The servers that test suites use, and whether they answer. Shared by the test runner and .ci/run.
import { connect } from 'node:net';

export const SERVERS = [
  { name: 'redis', label: 'Redis', host: '127.0.0.1', port: 6379 },
  { name: 'postgres', label: 'PostgreSQL', host: '127.0.0.1', port: 5432 },
];

export function reachable({ host, port }, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
