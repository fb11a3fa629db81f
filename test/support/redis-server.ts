import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { createClient } from 'redis';

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A redis-server of the test's own, on its own port: its command counts are the test's alone, and
 * the test may stop and restart it.
 */
export class OwnRedis {
  private process: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.process = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--enable-debug-command', 'local'], { stdio: 'ignore' });
    const exited = new Promise<never>((_, reject) => this.process!.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`))));
    exited.catch(() => undefined);
    for (;;) {
      if (await Promise.race([this.ping(), exited])) break;
    }
    // A restart on the port can find it taken by a server another suite started meanwhile: a test
    // that went on would be talking to that server, so say so instead.
    const pid = /^process_id:(\d+)/m.exec(String(await this.command('INFO', 'server')))?.[1];
    if (Number(pid) !== this.process.pid) throw new Error(`127.0.0.1:${this.port} is answered by another redis-server (pid ${pid}), not the one this test started (pid ${this.process.pid})`);
  }

  /** Kills the server (as a crash would) and waits until the port is closed. */
  async stop(): Promise<void> {
    const proc = this.process;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await gone;
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  /** Thaws a paused server; it answers what was sent meanwhile. */
  resume(): void {
    this.process?.kill('SIGCONT');
  }

  /** Calls of each Redis command so far, from INFO commandstats. */
  async commandCounts(): Promise<Record<string, number>> {
    return commandCountsIn(String(await this.command('INFO', 'commandstats')));
  }

  /** Runs one command on a connection of its own. */
  async command(...args: string[]): Promise<unknown> {
    const client = createClient({ url: this.url });
    await client.connect();
    try {
      return await client.sendCommand(args);
    } finally {
      await client.close();
    }
  }

  private async ping(): Promise<boolean> {
    const client = createClient({ url: this.url, socket: { reconnectStrategy: false, connectTimeout: 200 } });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      await client.close();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
      return false;
    }
  }
}

/** Calls of each command in the text of `INFO commandstats`. */
export function commandCountsIn(info: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) counts[match[1]] = Number(match[2]);
  return counts;
}

/** Differences between two command-count snapshots, without the commands the snapshots themselves ran. */
export function commandDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [cmd, calls] of Object.entries(after)) {
    const d = calls - (before[cmd] ?? 0);
    if (d > 0 && !['info', 'hello', 'client|setinfo', 'ping', 'quit', 'close'].includes(cmd)) delta[cmd] = d;
  }
  return delta;
}

/** Polls `condition` (a store round trip) until it holds; bounded, for a server coming back. */
export async function eventually(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await condition()) return;
    await delay(20);
  }
  assert.fail(`timed out waiting until ${what}`);
}
