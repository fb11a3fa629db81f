import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { commandCountsIn, freePort } from './redis-server.js';

const run = promisify(execFile);

/** `skip` option for a suite that starts its own cluster: false when redis-server and redis-cli are installed. */
export function clusterTools(): { skip: string | false } {
  try {
    execFileSync('redis-server', ['--version']);
    execFileSync('redis-cli', ['--version']);
    return { skip: false };
  } catch {
    return { skip: 'redis-server or redis-cli is not installed' };
  }
}

/** One line of `CLUSTER NODES`. */
interface ClusterNode {
  id: string;
  port: number;
  master: boolean;
  /** The id of the master a replica follows. */
  masterId: string | undefined;
}

/** How {@link OwnRedisCluster.start} sets the nodes up. */
export interface OwnClusterOptions {
  /**
   * `cluster-node-timeout`: how long a master may not answer before the others fail it over to its
   * replica. Low for tests that kill a master; a loaded machine may then fail over a slow one.
   * @default 3000
   */
  nodeTimeoutMs?: number;
  /**
   * Nodes that speak TLS only (clients, the cluster bus and replication), with a certificate for
   * 127.0.0.1 signed by a CA of the cluster's own ({@link OwnRedisCluster.ca}).
   * @default false
   */
  tls?: boolean;
}

/**
 * A Redis Cluster of the test's own: 3 masters and a replica each, on free loopback ports, with
 * its node files in a temporary directory that {@link OwnRedisCluster.stop} deletes.
 */
export class OwnRedisCluster {
  private readonly processes = new Map<number, ChildProcess>();

  /** The PEM of the CA that signed the nodes' certificate, when they speak TLS. */
  ca: string | undefined;

  private constructor(readonly ports: number[], private readonly dir: string, private readonly nodeTimeoutMs: number) {}

  static async start({ nodeTimeoutMs = 3000, tls = false }: OwnClusterOptions = {}): Promise<OwnRedisCluster> {
    const ports: number[] = [];
    while (ports.length < 6) {
      const port = await freePort();
      // A cluster node also listens on port + 10000 (the bus).
      if (port < 55_000 && !ports.includes(port)) ports.push(port);
    }
    const cluster = new OwnRedisCluster(ports, await mkdtemp(join(tmpdir(), 'cache-tags-cluster-')), nodeTimeoutMs);
    try {
      if (tls) await cluster.makeCertificates();
      await cluster.create();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The root node URLs for `store: { cluster: { rootNodes } }`. */
  get rootNodes(): string[] {
    return this.ports.slice(0, 3).map((port) => `${this.ca ? 'rediss' : 'redis'}://127.0.0.1:${port}`);
  }

  private async create(): Promise<void> {
    for (const port of this.ports) await this.spawnNode(port);
    await run('redis-cli', [...this.cliTls(), '--cluster', 'create', ...this.ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '1', '--cluster-yes']);
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
    const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false, ...this.clientTls() } });
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
    const replica = await this.replicaOf(port);
    await this.command(replica, 'CLUSTER', 'FAILOVER');
    await this.untilMaster(replica);
    await this.settled();
    return replica;
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

  /**
   * Kills the node at `port` (SIGKILL, as a crash would: no goodbye to its replica or the clients).
   * Its replica takes over once the other masters have not heard from it for `nodeTimeoutMs`.
   */
  async kill(port: number): Promise<void> {
    const proc = this.processes.get(port);
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await gone;
  }

  /**
   * Starts the node at `port` again with its node file: a master that was failed over while it was
   * down rejoins as a replica of the node that took its slots.
   */
  async restart(port: number): Promise<void> {
    await this.spawnNode(port);
  }

  /** The port of the replica that follows the master at `port`. */
  async replicaOf(port: number): Promise<number> {
    const nodes = await this.nodes();
    const master = nodes.find((node) => node.port === port)!;
    return nodes.find((node) => node.masterId === master.id)!.port;
  }

  /** Freezes the node at `port` (SIGSTOP): its connections stay open, nothing is answered. */
  pause(port: number): void {
    this.processes.get(port)?.kill('SIGSTOP');
  }

  /** Thaws a node {@link pause}d; it answers what was sent meanwhile. */
  resume(port: number): void {
    this.processes.get(port)?.kill('SIGCONT');
  }

  /** Calls of each command the node at `port` has run, from `INFO commandstats`. */
  async commandCounts(port: number): Promise<Record<string, number>> {
    return commandCountsIn(String(await this.command(port, 'INFO', 'commandstats')));
  }

  /** Waits until the node at `port` is a master and says the cluster is ok. */
  async untilMaster(port: number): Promise<void> {
    await this.until(port, async () => /role:master/.test(String(await this.command(port, 'INFO', 'replication'))) && /cluster_state:ok/.test(String(await this.command(port, 'CLUSTER', 'INFO'))));
  }

  /**
   * `redis-cli --cluster reshard`: moves the first `slots` slots of the master at `from` to the
   * master at `to`, one slot at a time (each marked MIGRATING/IMPORTING, its keys moved with
   * `MIGRATE`, then given to `to`), as an operator would.
   */
  async reshard(from: number, to: number, slots: number): Promise<void> {
    const nodes = await this.nodes();
    const id = (port: number): string => nodes.find((node) => node.port === port)!.id;
    await run('redis-cli', [...this.cliTls(), '--cluster', 'reshard', `127.0.0.1:${from}`, '--cluster-from', id(from), '--cluster-to', id(to), '--cluster-slots', String(slots), '--cluster-yes', '--cluster-pipeline', '1']);
  }

  /** The slots the master at `port` holds, lowest first. */
  async slotsOf(port: number): Promise<number[]> {
    const shards = (await this.command(port, 'CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
    const slots: number[] = [];
    for (const [from, to, [, owner]] of shards) if (owner === port) for (let slot = from; slot <= to; slot++) slots.push(slot);
    return slots.sort((a, b) => a - b);
  }

  /** The hash slot of each key, asked of one node on one connection. */
  async keySlots(keys: readonly string[]): Promise<number[]> {
    const client = createClient({ socket: { host: '127.0.0.1', port: this.ports[0], reconnectStrategy: false, ...this.clientTls() } });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await Promise.all(keys.map(async (key) => Number(await client.sendCommand(['CLUSTER', 'KEYSLOT', key]))));
    } finally {
      client.destroy();
    }
  }

  /** Stops every node and deletes the node files. */
  async stop(): Promise<void> {
    await Promise.all(this.ports.map((port) => this.kill(port)));
    await rm(this.dir, { recursive: true, force: true });
  }

  /** A CA and a certificate for 127.0.0.1 it signed, in the nodes' directory. */
  private async makeCertificates(): Promise<void> {
    const openssl = (...args: string[]) => run('openssl', args, { cwd: this.dir });
    const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await openssl('req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=cache-tags test CA');
    await openssl('req', ...key, '-keyout', 'node.key', '-out', 'node.csr', '-subj', '/CN=127.0.0.1');
    await writeFile(join(this.dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    await openssl('x509', '-req', '-in', 'node.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'node.crt', '-days', '1', '-extfile', 'san.ext');
    this.ca = await readFile(join(this.dir, 'ca.crt'), 'utf8');
  }

  private clientTls(): { tls?: true; ca?: string } {
    return this.ca ? { tls: true, ca: this.ca } : {};
  }

  private cliTls(): string[] {
    return this.ca ? ['--tls', '--cacert', join(this.dir, 'ca.crt')] : [];
  }

  private async spawnNode(port: number): Promise<void> {
    this.processes.set(port, spawn('redis-server', [
      ...(this.ca ? ['--port', '0', '--tls-port', String(port), '--tls-cluster', 'yes', '--tls-replication', 'yes', '--tls-auth-clients', 'no', ...['cert', 'key', 'ca-cert'].flatMap((file) => [`--tls-${file}-file`, join(this.dir, file === 'ca-cert' ? 'ca.crt' : `node.${file === 'cert' ? 'crt' : 'key'}`)])] : ['--port', String(port)]),
      '--bind', '127.0.0.1', '--dir', this.dir,
      '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', String(this.nodeTimeoutMs),
      // A replica's first sync starts at once, not after the default 5 s wait for more replicas.
      '--appendonly', 'no', '--save', '', '--repl-diskless-sync-delay', '0',
    ], { stdio: 'ignore' }));
    await this.until(port, async () => (await this.command(port, 'PING')) === 'PONG');
  }


  private async until(port: number, check: () => Promise<boolean>): Promise<void> {
    for (let attempt = 0; attempt < 1200; attempt++) {
      if (await check().catch(() => false)) return;
      await delay(50);
    }
    throw new Error(`redis-server on port ${port} did not get there in 60 s`);
  }
}
