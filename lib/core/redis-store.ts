import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Keyv } from 'keyv';
import { CacheTagsError } from './errors.js';
import { decodeRow, encodeRow, type Minted, type StoreDriver, type StoreWrite } from './store-driver.js';
import { randomPart } from './tokens.js';

type KeyvRedisModule = typeof import('@keyv/redis'); // eslint-disable-line @typescript-eslint/consistent-type-imports -- a type-only view of an optional peer loaded on demand

/** The part of a node-redis client this driver uses. */
interface RedisClient {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): void;
  once(event: 'ready', listener: () => void): unknown;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  sendCommand(args: string[]): Promise<unknown>;
  set(key: string, value: string, options?: { PX: number }): Promise<unknown>;
  del(keys: string[]): Promise<number>;
}

/*
 * The namespace's sequence is a hybrid logical clock of the Redis server: one more than its last
 * value, but never behind the server's time in µs. Were the key ever lost (eviction, FLUSHALL), the
 * next stamp still exceeds every stamp written before, so a computation that began before the loss
 * never mistakes a later invalidation for an earlier one. `%.0f`: Lua's tostring would print large
 * numbers in exponent form.
 */
const SEQUENCE_FLOOR = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])`;

/** KEYS: sequence, tag versions. ARGV: random part, ttl (0: none). Bumps the sequence and stamps it into a fresh token per tag. */
const INVALIDATE = `${SEQUENCE_FLOOR}
local n = (tonumber(redis.call('GET', KEYS[1]) or '0') or 0) + 1
if n < now then n = now end
local s = string.format('%.0f', n)
redis.call('SET', KEYS[1], s)
local v = '{"value":"!' .. s .. '.' .. ARGV[1] .. '"}'
local ttl = tonumber(ARGV[2])
for i = 2, #KEYS do
  if ttl > 0 then redis.call('SET', KEYS[i], v, 'PX', ttl) else redis.call('SET', KEYS[i], v) end
end
return s`;

/*
 * KEYS: sequence, tag versions. ARGV: random part, ttl. The sequence, then the current version of
 * each tag; a tag with none gets one stamped with the current sequence (no bump: minting is not an
 * invalidation). Never overwrites a version, so it cannot undo an invalidation that landed meanwhile.
 */
const MINT = `local s = redis.call('GET', KEYS[1])
if not s then
  ${SEQUENCE_FLOOR.replace('\n', '\n  ')}
  s = string.format('%.0f', now)
  redis.call('SET', KEYS[1], s)
end
local v = '{"value":"!' .. s .. '.' .. ARGV[1] .. '"}'
local ttl = tonumber(ARGV[2])
local out = { s }
for i = 2, #KEYS do
  local row = redis.call('GET', KEYS[i])
  if not row then
    if ttl > 0 then redis.call('SET', KEYS[i], v, 'PX', ttl) else redis.call('SET', KEYS[i], v) end
    row = v
  end
  out[i] = row
end
return out`;

/** KEYS: the lock. ARGV: the token that took it. Deletes it only if that token still holds it. */
const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface Script {
  source: string;
  sha: string;
}

const script = (source: string): Script => ({ source, sha: createHash('sha1').update(source).digest('hex') });
export const SCRIPTS = { invalidate: script(INVALIDATE), mint: script(MINT), unlock: script(UNLOCK) };

/** What runs a script: a node-redis client or cluster client. */
interface ScriptRunner {
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** How a script is sent: by hash (`EVALSHA`) or by source (`EVAL`), the rest of the command bound. */
type SendScript = (command: 'EVALSHA' | 'EVAL', script: string) => Promise<unknown>;

/** Runs a script by its hash, and by its source the first time a server does not know it. */
function sendScript(send: SendScript, code: Script): Promise<unknown> {
  return send('EVALSHA', code.sha).catch((error: unknown) => {
    if (!/^NOSCRIPT\b/.test((error as Error)?.message ?? '')) throw error;
    return send('EVAL', code.source);
  });
}

/** {@link sendScript} through a client's typed commands (the cluster client routes them by key). */
export function runScript(client: ScriptRunner, code: Script, keys: string[], args: string[]): Promise<unknown> {
  const options = { keys, arguments: args };
  return sendScript((command, script) => (command === 'EVALSHA' ? client.evalSha(script, options) : client.eval(script, options)), code);
}

/*
 * A lock's value is its token as a JSON string, so that a read of the lock through the driver (or
 * Keyv) decodes it like any other row.
 */
export const lockValue = (token: string): string => JSON.stringify(token);

/** Loads @keyv/redis now, so that a missing optional peer is an error at construction. */
export function loadKeyvRedis(url: string): KeyvRedisModule {
  // The CommonJS build has its own `require`; the ESM build resolves from the application's directory.
  const load = typeof require === 'function' ? require : createRequire(join(process.cwd(), 'index.js'));
  try {
    return load('@keyv/redis') as KeyvRedisModule;
  } catch (cause) {
    throw new CacheTagsError('E_MISSING_PEER', `store "${redact(url)}" needs the optional peer dependency @keyv/redis, which cannot be loaded: npm install @keyv/redis`, { cause });
  }
}

/** A URL without its credentials, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * Redis driven straight through its node-redis client: every batch is one command (MGET, a script,
 * DEL) or one pipeline, with no per-row Keyv hooks on the hit path. Rows are written in the envelope
 * Keyv writes, so the Keyv instance over the same client reads them too.
 */
export class RedisDriver implements StoreDriver {
  readonly local = false;
  readonly ordered = true;
  private readiness: Promise<void> | undefined;

  constructor(private readonly client: RedisClient) {}

  read(keys: readonly string[]): Promise<unknown[]> {
    // The raw command: the typed `mGet` adds an argument parser and two async frames to every hit.
    return this.client.sendCommand(['MGET', ...keys]).then((reply) => {
      const rows = reply as unknown[];
      // The client's fresh array, decoded in place.
      const now = Date.now();
      for (let i = 0; i < rows.length; i++) rows[i] = decodeRow(rows[i], now);
      return rows;
    });
  }

  async write(writes: readonly StoreWrite[]): Promise<void> {
    const now = Date.now();
    await Promise.all(writes.map(({ key, value, ttl }) => this.client.set(key, encodeRow(value, ttl, now), ttl === undefined ? undefined : { PX: ttl })));
  }

  async remove(keys: readonly string[]): Promise<void> {
    if (keys.length > 0) await this.client.del(keys as string[]);
  }

  invalidate(sequenceKey: string, tagKeys: readonly string[], ttl: number | undefined): Promise<void> {
    // Chained, not awaited in an async function: the write path's reply reaches its caller in fewer hops.
    return this.run(SCRIPTS.invalidate, [sequenceKey, ...tagKeys], ttl).then(
      () => undefined,
      async (error: unknown) => {
        /*
         * A Redis out of memory (maxmemory with noeviction) refuses every write, but not DEL: a
         * missing version means "invalidated", and without its sequence the namespace orders again
         * from the server's clock, which is ahead of every stamp a computation in flight has read.
         */
        if (!/^OOM\b/.test((error as Error)?.message ?? '')) throw error;
        await this.client.del([sequenceKey, ...tagKeys]);
      },
    );
  }

  async mint(sequenceKey: string, tagKeys: readonly string[], ttl: number | undefined): Promise<Minted> {
    const [sequence, ...rows] = (await this.run(SCRIPTS.mint, [sequenceKey, ...tagKeys], ttl)) as string[];
    const now = Date.now();
    return { sequence: Number(sequence), tokens: rows.map((row) => decodeRow(row, now)) };
  }

  async lock(key: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.client.sendCommand(['SET', key, lockValue(token), 'NX', 'PX', String(ttlMs)])) !== null;
  }

  async unlock(key: string, token: string): Promise<void> {
    await this.script(SCRIPTS.unlock, [key], [lockValue(token)]);
  }

  ready(): Promise<void> | undefined {
    if (this.client.isReady) return undefined;
    this.readiness ??= new Promise<void>((resolve) => {
      this.client.once('ready', () => {
        this.readiness = undefined;
        resolve();
      });
    });
    return this.readiness;
  }

  async close(): Promise<void> {
    if (this.client.isReady) await this.client.close();
    else this.client.destroy();
  }

  /** The raw command, as for MGET: the typed `evalSha` adds an argument parser and async frames to every write. */
  private script(code: Script, keys: string[], args: string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    return sendScript((command, script) => this.client.sendCommand([command, script, ...tail]), code);
  }

  private run(code: Script, keys: string[], ttl: number | undefined): Promise<unknown> {
    return this.script(code, keys, [randomPart(), String(ttl ?? 0)]);
  }
}

/** A store cache-tags creates from a Redis URL: the Keyv instance users see, and the driver the cache uses. */
export interface RedisStore {
  keyv: Keyv;
  driver: RedisDriver;
}

/*
 * @keyv/redis with its defaults hangs every call while Redis is unreachable and replays queued
 * commands when it returns. These settings make a call fail fast instead, so that the gateway's
 * breaker can take over, and let the client reconnect by itself. The connection starts now; calls
 * made before it is up wait for it (within the gateway's timeout) instead of failing.
 */
export function createRedisStore(url: string, timeoutMs: number): RedisStore {
  const mod = loadKeyvRedis(url);
  const adapter = new mod.default(
    {
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout: Math.max(timeoutMs, 1), reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000) },
    },
    { throwOnErrors: true, throwOnConnectError: true, connectionTimeout: timeoutMs },
  );
  const keyv = new Keyv(adapter, { useKeyPrefix: false, throwOnErrors: true, namespace: undefined, ...PLAIN_JSON });
  // Connection errors repeat on every reconnect attempt; the gateway reports the calls they fail.
  keyv.on('error', () => undefined);
  const client = adapter.client as unknown as RedisClient;
  client.on('error', () => undefined);
  client.connect().catch(() => undefined);
  return { keyv, driver: new RedisDriver(client) };
}

/*
 * What cache-tags hands Keyv is JSON-safe already (its own serializer encodes Date, BigInt, Map...).
 * Keyv's default serializer would walk every string with a reviver for the types it encodes itself.
 */
export const PLAIN_JSON = {
  serialize: (data: unknown): string => JSON.stringify(data),
  deserialize: (text: string): any => JSON.parse(text),
};

/** Whether a `store` option is a Redis URL. */
export function isRedisUrl(store: unknown): store is string {
  return typeof store === 'string' && /^rediss?:\/\//.test(store);
}
