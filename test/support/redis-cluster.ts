import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { freePort } from './redis-server.js';

const run = promisify(execFile);

/** One line of `CLUSTER NODES`. */
interface ClusterNode {
  id: string;
  port: number;
  master: boolean;
  /** The id of the master a replica follows. */
  masterId: string | undefined;
}

/**
 * A Redis Cluster of the test's own: 3 masters and a replica each, on free loopback ports, with
 * its node files in a temporary directory that {@link OwnRedisCluster.stop} deletes.
 */
export class OwnRedisCluster {
  private readonly processes: ChildProcess[] = [];

  private constructor(readonly ports: number[], private readonly dir: string) {}

  static async start(): Promise<OwnRedisCluster> {
    const ports: number[] = [];
    while (ports.length < 6) {
      const port = await freePort();
      // A cluster node also listens on port + 10000 (the bus).
      if (port < 55_000 && !ports.includes(port)) ports.push(port);
    }
    const cluster = new OwnRedisCluster(ports, await mkdtemp(join(tmpdir(), 'cache-tags-cluster-')));
    try {
      await cluster.create();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The root node URLs for `store: { cluster: { rootNodes } }`. */
  get rootNodes(): string[] {
    return this.ports.slice(0, 3).map((port) => `redis://127.0.0.1:${port}`);
  }

  private async create(): Promise<void> {
    for (const port of this.ports) {
      this.processes.push(spawn('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', this.dir,
        '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '3000',
        '--appendonly', 'no', '--save', '',
      ], { stdio: 'ignore' }));
    }
    for (const port of this.ports) await this.until(port, async () => (await this.command(port, 'PING')) === 'PONG');
    await run('redis-cli', ['--cluster', 'create', ...this.ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '1', '--cluster-yes']);
    await this.settled();
  }

  /**
   * Waits until every node says the cluster is ok, every replica is in sync with its master, three
   * nodes say they are masters and every node's view of who is master agrees: checked all in one
   * go, since roles change while a failover settles.
   */
  async settled(): Promise<void> {
    const masterSet = (nodes: ClusterNode[]): string => nodes.filter((node) => node.master).map((node) => node.port).sort().join();
    await this.until(this.ports[0], async () => {
      const masters: number[] = [];
      for (const port of this.ports) {
        if (!/cluster_state:ok/.test(String(await this.command(port, 'CLUSTER', 'INFO')))) return false;
        const info = String(await this.command(port, 'INFO', 'replication'));
        if (/role:master/.test(info)) masters.push(port);
        else if (!/master_link_status:up/.test(info)) return false;
      }
      if (masters.length !== 3) return false;
      const expected = masters.sort().join();
      for (const port of this.ports) if (masterSet(await this.nodes(port)) !== expected) return false;
      return true;
    });
  }

  /** Runs one command on the node at `port`, on a connection of its own. */
  async command(port: number, ...args: string[]): Promise<unknown> {
    const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false } });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await client.sendCommand(args);
    } finally {
      client.destroy();
    }
  }

  /** The cluster as the node at `port` sees it. */
  async nodes(port = this.ports[0]): Promise<ClusterNode[]> {
    const text = String(await this.command(port, 'CLUSTER', 'NODES'));
    return text.trim().split('\n').map((line) => {
      const [id, address, flags, masterId] = line.split(' ');
      return { id, port: Number(/:(\d+)@/.exec(address)![1]), master: flags.split(',').includes('master'), masterId: masterId === '-' ? undefined : masterId };
    });
  }

  /** The port of the master that holds `key` now. */
  async masterOf(key: string): Promise<number> {
    const slot = Number(await this.command(this.ports[0], 'CLUSTER', 'KEYSLOT', key));
    const shards = (await this.command(this.ports[0], 'CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
    const owner = shards.find(([from, to]) => slot >= from && slot <= to);
    return owner![2][1];
  }

  /** `CLUSTER FAILOVER` on the replica of the master at `port`; resolves once the replica leads. */
  async failover(port: number): Promise<number> {
    const nodes = await this.nodes();
    const master = nodes.find((node) => node.port === port)!;
    const replica = nodes.find((node) => node.masterId === master.id)!;
    await this.command(replica.port, 'CLUSTER', 'FAILOVER');
    await this.until(replica.port, async () => /role:master/.test(String(await this.command(replica.port, 'INFO', 'replication'))));
    await this.settled();
    return replica.port;
  }

  /**
   * Starts moving `key`'s slot to the master at `target`: both ends marked (MIGRATING, IMPORTING)
   * and the slot's keys moved, so that the old owner answers `ASK` for them. Returns the step that
   * ends the move (every node told the new owner: `MOVED` from then on).
   */
  async migrate(key: string, target: number): Promise<() => Promise<void>> {
    const source = await this.masterOf(key);
    const slot = String(await this.command(source, 'CLUSTER', 'KEYSLOT', key));
    const nodes = await this.nodes();
    const id = (port: number): string => nodes.find((node) => node.port === port)!.id;
    await this.command(target, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', id(source));
    await this.command(source, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', id(target));
    const keys = (await this.command(source, 'CLUSTER', 'GETKEYSINSLOT', slot, '1000')) as string[];
    if (keys.length > 0) await this.command(source, 'MIGRATE', '127.0.0.1', String(target), '', '0', '5000', 'KEYS', ...keys);
    return async () => {
      for (const node of nodes.filter((n) => n.master)) await this.command(node.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', id(target));
      await this.settled();
    };
  }

  /** Stops every node and deletes the node files. */
  async stop(): Promise<void> {
    const running = this.processes.filter((proc) => proc.exitCode === null && proc.signalCode === null);
    await Promise.all(running.map((proc) => {
      const gone = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGKILL');
      return gone;
    }));
    await rm(this.dir, { recursive: true, force: true });
  }

  private async until(port: number, check: () => Promise<boolean>): Promise<void> {
    for (let attempt = 0; attempt < 1200; attempt++) {
      if (await check().catch(() => false)) return;
      await delay(50);
    }
    throw new Error(`redis-server on port ${port} did not get there in 60 s`);
  }
}
