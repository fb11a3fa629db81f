import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Keyv } from 'keyv';
import { CacheTagsError } from './errors.js';
import type { ChannelClient } from './invalidation-channel.js';
import type { NearCache, NearCacheSettings } from './near-cache.js';
import { withNearCache } from './near-cached-driver.js';
import { invalidationChannel } from './keys.js';
import { decodeRow, decodeRows, encodeRow, type Minted, type StoreDriver, type StoreWrite } from './store-driver.js';
import { randomPart } from './tokens.js';

type KeyvRedisModule = typeof import('@keyv/redis'); // eslint-disable-line @typescript-eslint/consistent-type-imports -- a type-only view of an optional peer loaded on demand

/** The part of a node-redis client this driver (and a near cache's channel) uses. */
interface RedisClient extends ChannelClient {
  once(event: 'ready', listener: () => void): unknown;
  duplicate(): ChannelClient;
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

/*
 * KEYS: sequence, tag versions. ARGV: random part, ttl (0: none), and optionally the namespace's
 * invalidation channel and the token's kind (`!`, the default, or `?` for a held version:
 * lib/core/tokens.ts). Bumps the sequence and stamps it into a fresh token per tag; with a channel,
 * publishes `[token, ...tag keys]` on it in the same script, so that the message is queued for every
 * near cache before the invalidation is acknowledged (docs/near-cache.md).
 */
const INVALIDATE = `${SEQUENCE_FLOOR}
local n = (tonumber(redis.call('GET', KEYS[1]) or '0') or 0) + 1
if n < now then n = now end
local s = string.format('%.0f', n)
redis.call('SET', KEYS[1], s)
local token = (ARGV[4] or '!') .. s .. '.' .. ARGV[1]
local v = '{"value":"' .. token .. '"}'
local ttl = tonumber(ARGV[2])
for i = 2, #KEYS do
  if ttl > 0 then redis.call('SET', KEYS[i], v, 'PX', ttl) else redis.call('SET', KEYS[i], v) end
end
if ARGV[3] then
  local message = { token }
  for i = 2, #KEYS do message[i] = KEYS[i] end
  redis.call('PUBLISH', ARGV[3], cjson.encode(message))
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
export function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** Whether Redis refused a write for lack of memory (maxmemory with noeviction). */
export function isOutOfMemory(error: unknown): boolean {
  return /^OOM\b/.test((error as Error)?.message ?? '');
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
    return this.readRaw(keys).then(decodeRows);
  }

  /** The rows of `keys` as Redis holds them (text, or `null`), in one `MGET`. */
  readRaw(keys: readonly string[]): Promise<unknown[]> {
    // The raw command: the typed `mGet` adds an argument parser and two async frames to every hit.
    return this.client.sendCommand(['MGET', ...keys]) as Promise<unknown[]>;
  }

  // The publish goes after the writes on the same connection, so Redis runs it after them: a near
  // cache that drops the keys on it cannot read them back old.
  async write(writes: readonly StoreWrite[], channel?: string): Promise<void> {
    const now = Date.now();
    const sent = writes.map(({ key, value, ttl }) => this.client.set(key, encodeRow(value, ttl, now), ttl === undefined ? undefined : { PX: ttl }));
    if (channel !== undefined) sent.push(this.forget(channel, writes.map((write) => write.key)));
    await Promise.all(sent);
  }

  async remove(keys: readonly string[], channel?: string): Promise<void> {
    if (keys.length === 0) return;
    await Promise.all(channel === undefined ? [this.client.del(keys as string[])] : [this.client.del(keys as string[]), this.forget(channel, keys)]);
  }

  /** Publishes a message without a token: near caches drop what they hold of `keys`. */
  private forget(channel: string, keys: readonly string[]): Promise<unknown> {
    return this.client.sendCommand(['PUBLISH', channel, JSON.stringify(['', ...keys])]);
  }

  invalidate(sequenceKey: string, tagKeys: readonly string[], ttl: number | undefined): Promise<void> {
    const channel = invalidationChannel(sequenceKey);
    // Chained, not awaited in an async function: the write path's reply reaches its caller in fewer hops.
    return this.run(SCRIPTS.invalidate, [sequenceKey, ...tagKeys], ttl, channel).then(
      () => undefined,
      async (error: unknown) => {
        /*
         * A Redis out of memory (maxmemory with noeviction) refuses every write, but not DEL (nor
         * PUBLISH): a missing version means "invalidated", and without its sequence the namespace
         * orders again from the server's clock, which is ahead of every stamp a computation in flight
         * has read. The message without a token tells near caches to forget the tags.
         */
        if (!isOutOfMemory(error)) throw error;
        await this.remove([sequenceKey, ...tagKeys], channel);
      },
    );
  }

  async hold(sequenceKey: string, tagKeys: readonly string[], holdMs: number): Promise<void> {
    await this.script(SCRIPTS.invalidate, [sequenceKey, ...tagKeys], [randomPart(), String(holdMs), invalidationChannel(sequenceKey), '?']);
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

  private run(code: Script, keys: string[], ttl: number | undefined, channel?: string): Promise<unknown> {
    const args = [randomPart(), String(ttl ?? 0)];
    if (channel !== undefined) args.push(channel);
    return this.script(code, keys, args);
  }
}

/** A store cache-tags creates from a Redis URL: the Keyv instance users see, and the driver the cache uses. */
export interface RedisStore {
  keyv: Keyv;
  driver: StoreDriver;
  /** The near cache in front of it, when asked for. */
  near?: NearCache;
}

/** A near cache asked of a Redis store: its settings, the namespace's invalidation channel, who to tell when it starts or stops serving. */
export interface NearCacheRequest {
  settings: NearCacheSettings;
  channel: string;
  onChange: (inStep: boolean) => void;
}

/*
 * @keyv/redis with its defaults hangs every call while Redis is unreachable and replays queued
 * commands when it returns. These settings make a call fail fast instead, so that the gateway's
 * breaker can take over, and let the client reconnect by itself. The connection starts now; calls
 * made before it is up wait for it (within the gateway's timeout) instead of failing.
 */
export function createRedisStore(url: string, timeoutMs: number, nearCache?: NearCacheRequest): RedisStore {
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
  const driver = new RedisDriver(client);
  if (!nearCache) return { keyv, driver };
  const near = withNearCache(driver, client, nearCache);
  return { keyv, driver: near, near: near.near };
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
