import { setTimeout as sleep } from 'node:timers/promises';
import { Keyv } from 'keyv';
import { CacheTagsError } from './errors.js';
import { PLAIN_JSON, SCRIPTS, isOutOfMemory, loadKeyvRedis, lockValue, redact, runScript, type Script } from './redis-store.js';
import { decodeRow, encodeRow, type Minted, type StoreDriver, type StoreWrite } from './store-driver.js';
import { orderedToken } from './tokens.js';
import { describe } from './tracking-scope.js';

/**
 * A node-redis cluster client of the application's own (`createCluster(…)` of node-redis 5),
 * connected (after `await cluster.connect()`) or not yet: cache-tags connects it if it is not open,
 * and never closes it. Its options are the application's: with node-redis's default offline queue,
 * calls to a node that is down wait (within `timeoutMs`) instead of failing at once.
 * @public
 */
export interface RedisClusterClient {
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
}

/**
 * A Redis Cluster as the store: `store: { cluster: { rootNodes: ['redis://host:port', …] } }`, or
 * `store: { cluster: client }` with a node-redis cluster client of your own.
 * @public
 */
export interface RedisClusterStoreOption {
  cluster: RedisClusterClient | {
    /**
     * `redis://` (or, all of them, `rediss://` for TLS) URLs of some nodes of the cluster (one is
     * enough; the rest are discovered). The user name and password of the first one are used for
     * every node.
     */
    rootNodes: string[];
    /**
     * node-redis client options for every node (node-redis's `RedisClusterOptions['defaults']`),
     * merged over cache-tags' own: e.g. `{ socket: { ca, cert, key } }` for TLS nodes. The offline
     * queue stays disabled (calls must fail fast for the circuit breaker), whatever is set here.
     * @default {}
     */
    defaults?: Record<string, unknown>;
  };
}

/** What the driver needs of one node's client, in node-redis's view of the cluster. */
interface NodeClient {
  readonly isReady: boolean;
}

/** The part of a node-redis cluster client this driver uses. */
interface ClusterClient {
  readonly isOpen: boolean;
  /** The masters node-redis routes to now (a client each, once connected). */
  readonly masters: readonly { client?: NodeClient }[];
  /**
   * node-redis's slot map. Internal to node-redis (hence the underscore), but its `rediscover` is
   * the only way to have the client ask the cluster who owns the slots other than a MOVED reply.
   */
  readonly _slots?: { rediscover(startWith: NodeClient | { options: object }): Promise<void> };
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): void;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  on(event: 'node-error', listener: (error: unknown) => void): unknown;
  off(event: 'node-error', listener: (error: unknown) => void): unknown;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options?: { expiration?: { type: 'PX'; value: number }; condition?: 'NX'; GET?: boolean }): Promise<string | null>;
  del(key: string): Promise<number>;
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

const TAG_KEY = /^\{([^}]*)\}:t:/;

/** How often the slots are asked for while a master's connection is down. */
const REDISCOVERY_MS = 100;

/*
 * docs/cluster.md, "Layout": the key builder gives tag versions the namespace's hash tag
 * (`{<ns>}:t:<tag>`), which on a cluster puts every tag on the master of one slot. This driver
 * drops the braces, so that each tag version hashes by its own name and the tags spread over the
 * masters like entries do; the sequence keeps its own slot. The escaped namespace has no `{` or `}`,
 * so a tag key is recognised without doubt, and the mapping is injective.
 */
export function clusterKey(key: string): string {
  const match = TAG_KEY.exec(key);
  return match ? `${match[1]}:t:${key.slice(match[0].length)}` : key;
}

/**
 * Redis Cluster through node-redis's cluster client, which routes each command to the master of
 * its key's slot and follows `MOVED` and `ASK`. Keys of one batch live on different slots, so every
 * batch is one single-key command per key, all sent at once: node-redis writes those for one master
 * in one packet, and the batch costs one round trip of latency (the slowest master's). Ordering
 * argument: docs/cluster.md, "The race judgement on a cluster".
 */
export class RedisClusterDriver implements StoreDriver {
  readonly local = false;
  readonly ordered = true;
  private connecting: Promise<void> | undefined;
  private connected: boolean;
  private following: Promise<void> | undefined;
  private closed = false;
  private readonly onNodeError = (): void => this.followFailover();

  /** `rootNode`: node-redis options of the node to ask for the slots when no master of the last map answers. */
  constructor(
    private readonly client: ClusterClient,
    private readonly rootNode: object | undefined,
  ) {
    // A client handed over open was connected by its owner.
    this.connected = client.isOpen;
    client.on('node-error', this.onNodeError);
  }

  async read(keys: readonly string[]): Promise<unknown[]> {
    const rows = await Promise.all(keys.map((key) => this.client.get(clusterKey(key))));
    const now = Date.now();
    return rows.map((row) => decodeRow(row, now));
  }

  async write(writes: readonly StoreWrite[]): Promise<void> {
    const now = Date.now();
    await Promise.all(writes.map(({ key, value, ttl }) => this.client.set(clusterKey(key), encodeRow(value, ttl, now), expiry(ttl))));
  }

  async remove(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((key) => this.client.del(clusterKey(key))));
  }

  /*
   * The sequence first, then the versions stamped with it: every version this invalidation writes
   * carries a stamp above any sequence read before the bump (docs/cluster.md). The invalidation
   * script with the sequence key alone only bumps it and answers the new value.
   */
  async invalidate(sequenceKey: string, tagKeys: readonly string[], ttl: number | undefined): Promise<void> {
    let stamp: number;
    try {
      stamp = Number(await this.run(SCRIPTS.invalidate, sequenceKey, ttl));
    } catch (error) {
      if (!isOutOfMemory(error)) throw error;
      // As on one Redis: DEL is allowed when writes are not, and a missing version means "invalidated".
      await this.remove([sequenceKey, ...tagKeys]);
      return;
    }
    const row = JSON.stringify({ value: orderedToken(stamp) });
    await Promise.all(tagKeys.map((key) => this.client.set(clusterKey(key), row, expiry(ttl)).catch((error: unknown) => {
      if (!isOutOfMemory(error)) throw error;
      return this.client.del(clusterKey(key));
    })));
  }

  /*
   * The current sequence (written from the server's clock if it has none), then per tag `SET NX
   * GET`: the version already there, or the one written now with that sequence. Never overwrites a
   * version, so an invalidation that lands meanwhile stands.
   */
  async mint(sequenceKey: string, tagKeys: readonly string[], ttl: number | undefined): Promise<Minted> {
    const [sequence] = (await this.run(SCRIPTS.mint, sequenceKey, ttl)) as string[];
    const row = JSON.stringify({ value: orderedToken(Number(sequence)) });
    const rows = await Promise.all(tagKeys.map((key) => this.client.set(clusterKey(key), row, { ...expiry(ttl), condition: 'NX', GET: true })));
    const now = Date.now();
    return { sequence: Number(sequence), tokens: rows.map((old) => decodeRow(old ?? row, now)) };
  }

  /*
   * A lock is one key on the master of its own slot (docs/cluster.md, "Layout"): taking and freeing
   * it are single-key commands, which is all they need.
   */
  async lock(key: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.client.set(key, lockValue(token), { expiration: { type: 'PX', value: ttlMs }, condition: 'NX' })) !== null;
  }

  async unlock(key: string, token: string): Promise<void> {
    await runScript(this.client, SCRIPTS.unlock, [key], [lockValue(token)]);
  }

  /*
   * node-redis's cluster client says it is open as soon as `connect` starts, but a command sent
   * before the slots are discovered throws; so readiness is the end of `connect`, not `isOpen`.
   */
  ready(): Promise<void> | undefined {
    if (this.connected && this.client.isOpen) return undefined;
    this.connecting ??= this.client.connect().then(
      () => {
        this.connected = true;
      },
      () => {
        // Discovery failed (no root node answered): the next call tries again.
        this.connecting = undefined;
      },
    );
    return this.connecting;
  }

  /*
   * docs/cluster.md, "A killed master". node-redis learns of a new owner of a slot only from a MOVED
   * or ASK reply, and a master that died answers nothing: its slots would stay mapped to it, and
   * every call for them would fail, after its replica took over and forever. So while the
   * connection to a master is down, the driver has node-redis ask the cluster for the slots every
   * REDISCOVERY_MS: once the replica took over, the map gives it the slots and drops the dead node.
   * A master that comes back as the master (a restart) ends the loop too.
   */
  private followFailover(): void {
    const slots = this.client._slots;
    if (this.following || this.closed || typeof slots?.rediscover !== 'function') return;
    const masterDown = (): boolean => this.client.masters.some((master) => master.client !== undefined && !master.client.isReady);
    this.following = (async () => {
      while (!this.closed && masterDown()) {
        const answering = this.client.masters.find((master) => master.client?.isReady)?.client;
        const startWith = answering ?? (this.rootNode && { options: this.rootNode });
        // It tries the root nodes when the node it starts with does not answer; a failure is the loop's to retry.
        if (startWith) await slots.rediscover(startWith).catch(() => undefined);
        await sleep(REDISCOVERY_MS, undefined, { ref: false });
      }
    })().finally(() => {
      this.following = undefined;
    });
  }

  release(): void {
    this.closed = true;
    this.client.off('node-error', this.onNodeError);
  }

  async close(): Promise<void> {
    this.release();
    if (this.client.isOpen) await this.client.close();
    else this.client.destroy();
  }

  private run(code: Script, sequenceKey: string, ttl: number | undefined): Promise<unknown> {
    return runScript(this.client, code, [sequenceKey], ['', String(ttl ?? 0)]);
  }
}

function expiry(ttl: number | undefined): { expiration?: { type: 'PX'; value: number } } {
  return ttl === undefined ? {} : { expiration: { type: 'PX', value: ttl } };
}

/** Whether `cluster` is a node-redis cluster client rather than options to make one. */
function isClusterClient(cluster: unknown): cluster is ClusterClient {
  return typeof cluster === 'object' && cluster !== null && typeof (cluster as ClusterClient).connect === 'function' && 'masters' in cluster;
}

/** Whether a `store` option asks for a Redis Cluster (then {@link createRedisClusterStore} validates it). */
export function isClusterOption(store: unknown): store is RedisClusterStoreOption {
  return typeof store === 'object' && store !== null && Object.keys(store).includes('cluster');
}

/** The root node URLs and node defaults of a cluster option, or a {@link CacheTagsError} naming what is wrong. */
function settingsOf(option: RedisClusterStoreOption): { urls: URL[]; defaults: Record<string, unknown> } {
  const where = 'TagCache option store.cluster';
  const { cluster } = option as { cluster: unknown };
  if (typeof cluster !== 'object' || cluster === null) throw new CacheTagsError('E_INVALID_OPTION', `${where} must be an object with rootNodes or a node-redis cluster client, got ${describe(cluster)}`);
  const { rootNodes, defaults = {} } = cluster as { rootNodes?: unknown; defaults?: unknown };
  if (!Array.isArray(rootNodes) || rootNodes.length === 0) {
    throw new CacheTagsError('E_INVALID_OPTION', `${where}.rootNodes must be a non-empty array of redis:// URLs, got ${describe(rootNodes)}`);
  }
  if (typeof defaults !== 'object' || defaults === null || Array.isArray(defaults)) throw new CacheTagsError('E_INVALID_OPTION', `${where}.defaults must be an object of node-redis client options, got ${describe(defaults)}`);
  const urls = rootNodes.map((node: unknown, index) => {
    const url = typeof node === 'string' && /^rediss?:\/\/[^/]+:\d+\/?$/.test(node) ? new URL(node) : undefined;
    if (!url?.port) throw new CacheTagsError('E_INVALID_OPTION', `${where}.rootNodes[${index}] must be a redis://host:port or rediss://host:port URL, got ${typeof node === 'string' ? JSON.stringify(redact(node)) : describe(node)}`);
    return url;
  });
  if (urls.some((url) => url.protocol !== urls[0].protocol)) {
    throw new CacheTagsError('E_INVALID_OPTION', `${where}.rootNodes mixes redis:// and rediss:// URLs: every node of a cluster speaks TLS or none does`);
  }
  return { urls, defaults: defaults as Record<string, unknown> };
}

/**
 * The cluster of the option: the Keyv users see (over the same client), the driver, and whether
 * cache-tags made the client (and so closes it). A client it makes fails fast and reconnects by
 * itself, as for a `redis://` store.
 */
export function createRedisClusterStore(option: RedisClusterStoreOption, timeoutMs: number): { keyv: Keyv; driver: RedisClusterDriver; owned: boolean } {
  if (isClusterClient(option.cluster)) {
    const client = option.cluster;
    // The application's first root node (node-redis keeps its options as `_options`), for the failover loop.
    const rootNode = (client as { _options?: { rootNodes?: object[] } })._options?.rootNodes?.[0];
    return { ...wrap(loadKeyvRedis('cluster client'), client, rootNode, timeoutMs), owned: false };
  }
  const { urls, defaults } = settingsOf(option);
  const mod = loadKeyvRedis(`cluster ${urls[0].host}`);
  const rootNodes = urls.map((url) => ({ url: `${url.protocol}//${url.host}` }));
  // The nodes node-redis discovers are reached by host and port alone: TLS must be in their defaults.
  const tls = urls[0].protocol === 'rediss:' ? { tls: true } : {};
  const cluster = mod.createCluster({
    rootNodes,
    defaults: {
      ...credentials(urls[0]),
      ...defaults,
      disableOfflineQueue: true,
      socket: { connectTimeout: Math.max(timeoutMs, 1), reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000), ...tls, ...(defaults.socket as object | undefined) },
    },
  });
  const client = cluster as unknown as ClusterClient;
  client.on('error', () => undefined);
  return { ...wrap(mod, client, rootNodes[0], timeoutMs), owned: true };
}

/** The Keyv and the driver over one cluster client, which starts connecting now if it is not open. */
function wrap(mod: ReturnType<typeof loadKeyvRedis>, client: ClusterClient, rootNode: object | undefined, timeoutMs: number): { keyv: Keyv; driver: RedisClusterDriver } {
  const adapter = new mod.default(client as unknown as ReturnType<typeof mod.createCluster>, { throwOnErrors: true, throwOnConnectError: true, connectionTimeout: timeoutMs });
  const keyv = new Keyv(adapter, { useKeyPrefix: false, throwOnErrors: true, namespace: undefined, ...PLAIN_JSON });
  keyv.on('error', () => undefined);
  const driver = new RedisClusterDriver(client, rootNode);
  void driver.ready();
  return { keyv, driver };
}

function credentials(url: URL): { username?: string; password?: string } {
  return {
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
  };
}
