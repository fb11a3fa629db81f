/*
 * The cross-process single flight (`lock`), with real processes on a redis-server of the test's
 * own: each worker (cross-process-flight-worker.ts) is one process with its own cache and
 * connection, and counts the runs of its source in Redis. Each test has a namespace of its own.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Keyv } from 'keyv';
import { Cached, CacheTagsError, TagCache, type LockOptions, type TagCacheStats } from '../../lib/index.js';
import { OwnRedis } from '../support/redis-server.js';
import { needs } from '../support/servers.js';
import { barrier } from '../support/stores.js';
import { legPreloads } from '../support/leg-preloads.js';

interface Done {
  value: string;
  stats: TagCacheStats;
}

/** One worker process, driven line by line. */
class Worker {
  private readonly child: ChildProcess;
  private readonly seen: string[] = [];
  private readonly waiting: { line: string; resolve: (rest: string) => void }[] = [];
  private stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(url: string, namespace: string, name: string, lock: boolean | LockOptions, ending: string) {
    this.child = spawn(process.execPath, [...legPreloads, join(__dirname, 'cross-process-flight-worker.js'), url, namespace, name, JSON.stringify(lock), ending], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += String(chunk)));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.seen.push(line);
      for (const wait of [...this.waiting]) {
        if (line === wait.line || line.startsWith(`${wait.line} `)) {
          this.waiting.splice(this.waiting.indexOf(wait), 1);
          wait.resolve(line.slice(wait.line.length + 1));
        }
      }
    });
    // 'close', not 'exit': every line the worker printed has been read by then.
    this.exited = new Promise((resolve) => this.child.once('close', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves with what follows `line` on its first line that starts with it (at once if it came already). */
  line(line: string): Promise<string> {
    const earlier = this.seen.find((seen) => seen === line || seen.startsWith(`${line} `));
    if (earlier !== undefined) return Promise.resolve(earlier.slice(line.length + 1));
    return new Promise((resolve) => this.waiting.push({ line, resolve }));
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** What its `wrap` returned; rejects when the process failed. */
  async done(): Promise<Done> {
    const result = await Promise.race([this.line('done'), this.exited.then(({ code, signal }) => {
      throw new Error(`worker exited (${code ?? signal}) before its wrap returned: ${this.stderr}`);
    })]);
    return JSON.parse(result) as Done;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

describe('Cross-process single flight (lock), separate processes on one Redis', needs('redis'), () => {
  let redis: OwnRedis;
  let namespaces = 0;
  const workers: Worker[] = [];
  const caches: TagCache[] = [];
  before(async () => {
    redis = await OwnRedis.start();
  });
  after(async () => {
    for (const worker of workers) worker.kill();
    await Promise.all(caches.map((cache) => cache.close()));
    redis.resume();
    await redis.stop();
  });
  const namespace = (): string => `xf-${namespaces++}`;
  const start = async (ns: string, name: string, lock: boolean | LockOptions, ending: string): Promise<Worker> => {
    const worker = new Worker(redis.url, ns, name, lock, ending);
    workers.push(worker);
    await worker.line('ready');
    return worker;
  };
  const runs = async (ns: string): Promise<number> => Number(await redis.command('GET', `${ns}:runs`));
  const sum = (done: Done[], count: (stats: TagCacheStats) => number): number => done.reduce((n, d) => n + count(d.stats), 0);

  /** `count` processes miss one key at once; their results and the source's runs. */
  const stampede = async (count: number, lock: boolean | LockOptions): Promise<{ done: Done[]; runs: number }> => {
    const ns = namespace();
    const started = await Promise.all(Array.from({ length: count }, (_, i) => start(ns, `p${i}`, lock, 'sleep:500')));
    for (const worker of started) worker.send('go');
    const done = await Promise.all(started.map((worker) => worker.done()));
    return { done, runs: await runs(ns) };
  };

  // A lock this long outlives the test's timeout: a holder that did not free its lock fails the test.
  it('4 processes that miss one key at once: the source runs once, and all get its value', { timeout: 90_000 }, async () => {
    const control = await stampede(4, false);
    assert.ok(control.runs > 1, `without the lock the stampede is real: ${control.runs} runs`);

    const { done, runs: ran } = await stampede(4, { waitMs: 300_000, ttlMs: 300_000 });
    assert.equal(ran, 1, 'one run of the source across the 4 processes');
    assert.equal(new Set(done.map((d) => d.value)).size, 1, 'every process got the one value');
    assert.equal(sum(done, (s) => s.lock.led), 1);
    assert.equal(sum(done, (s) => s.lock.waited), 3);
    assert.equal(sum(done, (s) => s.lock.served), 3);
  });

  it('the lock holder is killed (-9) while computing: the others compute once its lock expires, no request fails', async () => {
    const ns = namespace();
    const lock = { waitMs: 30_000, ttlMs: 3000 };
    const holder = await start(ns, 'holder', lock, 'hold');
    holder.send('go');
    await holder.line('computing');
    const others = await Promise.all(['b', 'c'].map((name) => start(ns, name, lock, 'sleep:100')));
    assert.ok(Number(await redis.command('PTTL', `${ns}:l:page`)) > 0, 'the holder still holds the lock when the others start (a machine too slow for a 3 s lock fails here)');
    for (const worker of others) worker.send('go');
    holder.kill();
    assert.equal((await holder.exited).signal, 'SIGKILL');
    const done = await Promise.all(others.map((worker) => worker.done()));
    assert.equal(await runs(ns), 2, "the holder's run and one more, after its lock expired");
    assert.equal(new Set(done.map((d) => d.value)).size, 1);
    assert.equal(sum(done, (s) => s.lock.waited), 2, 'both waited for the dead holder');
    assert.equal(sum(done, (s) => s.lock.led), 1);
    assert.equal(sum(done, (s) => s.lock.served), 1);
  });

  it('a wait past waitMs: the caller computes by itself and returns, while the holder still computes', async () => {
    const ns = namespace();
    const holder = await start(ns, 'holder', { waitMs: 30_000, ttlMs: 30_000 }, 'hold');
    holder.send('go');
    await holder.line('computing');
    const impatient = await start(ns, 'impatient', { waitMs: 300, ttlMs: 30_000 }, 'sleep:0');
    impatient.send('go');
    const done = await impatient.done();
    assert.equal(done.value, 'impatient:0', 'its own value');
    assert.deepEqual(done.stats.lock, { led: 0, waited: 1, served: 0, timedOut: 1 });
    holder.send('finish');
    assert.equal((await holder.done()).value, 'holder:0');
    assert.equal(await runs(ns), 2);
  });

  it("an invalidation during the holder's computation: a waiter never gets the holder's value, it computes the new one", { timeout: 60_000 }, async () => {
    const ns = namespace();
    const lock = { waitMs: 300_000, ttlMs: 300_000 };
    const writer = new TagCache({ store: redis.url, namespace: ns });
    caches.push(writer);
    const holder = await start(ns, 'holder', lock, 'hold');
    holder.send('go');
    await holder.line('computing'); // the holder has read row 0
    await redis.command('SET', `${ns}:row`, '1');
    await writer.invalidateTags(['Row']); // the write has returned
    const waiter = await start(ns, 'waiter', lock, 'sleep:0');
    waiter.send('go');
    await waiter.line('waiting'); // it missed and found the lock held: the holder's turn came first
    holder.send('finish');
    assert.equal((await holder.done()).value, 'holder:0', 'the holder returns what it read to its own caller');
    const done = await waiter.done();
    assert.equal(done.value, 'waiter:1', "the waiter read after the write: never the holder's dead entry");
    assert.deepEqual(done.stats.lock, { led: 1, waited: 1, served: 0, timedOut: 0 }, 'it waited, then took the lock the holder freed');
    assert.equal(await runs(ns), 2);
  });
});

describe('Cross-process single flight (lock) when Redis goes down', needs('redis'), () => {
  let redis: OwnRedis;
  const caches: TagCache[] = [];
  before(async () => {
    redis = await OwnRedis.start();
  });
  after(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await redis.stop();
  });

  it('a caller waiting on a lock when Redis dies computes by itself; a call with Redis down computes', { timeout: 60_000 }, async () => {
    // Two caches on one Redis play two processes; a wait this long would time the test out.
    const make = (): TagCache => {
      const cache = new TagCache({ store: redis.url, namespace: 'down', timeoutMs: 200, lock: { waitMs: 120_000, ttlMs: 120_000 } });
      caches.push(cache);
      return cache;
    };
    const [holderCache, waiterCache] = [make(), make()];
    const holding = barrier();
    const held = holderCache.wrap('page', async () => {
      holding.arrive();
      await holding.wait;
      return 'holder';
    });
    await holding.reached;
    const waited = waiterCache.wrap('page', () => 'waiter');
    while (waiterCache.stats().lock.waited === 0) await delay(10);
    await redis.stop();
    assert.equal(await waited, 'waiter', 'it computed by itself once Redis stopped answering');
    holding.release();
    assert.equal(await held, 'holder', 'the holder returns its value though it cannot store it or free the lock');
    assert.equal(await make().wrap('page', () => 'fresh'), 'fresh', 'with Redis down, a call computes');
  });
});

describe('Cross-process single flight (lock) on other stores, and its options', () => {
  it('on the in-process store it is the single flight of the process: one run, no lock', async () => {
    const cache = new TagCache({ lock: true });
    let ran = 0;
    const values = await Promise.all(Array.from({ length: 5 }, () => cache.wrap('k', async () => {
      ran++;
      await delay(20);
      return ran;
    }, { lock: { waitMs: 10 } })));
    assert.deepEqual(values, [1, 1, 1, 1, 1]);
    assert.deepEqual(cache.stats().lock, { led: 0, waited: 0, served: 0, timedOut: 0 });
    await cache.close();
  });

  it('a Keyv store you pass cannot take a lock: a clear error at construction, and from wrap', async () => {
    assert.throws(() => new TagCache({ store: new Keyv(), lock: true }), (error: unknown) => error instanceof CacheTagsError && error.code === 'E_INVALID_OPTION' && /lock needs a store that can take a lock/.test(error.message));
    const cache = new TagCache({ store: new Keyv() });
    await assert.rejects(cache.wrap('k', () => 1, { lock: true }), (error: unknown) => error instanceof CacheTagsError && error.code === 'E_INVALID_OPTION' && /TagCache\.wrap\("k"\): option lock/.test(error.message));
    assert.equal(await cache.wrap('k', () => 1, { lock: false }), 1, 'lock: false is no lock');
    await cache.close();
  });

  it('bad lock options are refused, naming the option', async () => {
    for (const bad of [{ lock: 'yes' }, { lock: { waitMs: -1 } }, { lock: { ttlMs: 0 } }, { lock: { ttlMs: 1.5 } }, { lock: { wait: 10 } }]) {
      assert.throws(() => new TagCache(bad as never), (error: unknown) => error instanceof CacheTagsError && error.code === 'E_INVALID_OPTION' && /TagCache option lock/.test(error.message), JSON.stringify(bad));
    }
    const cache = new TagCache();
    await assert.rejects(cache.wrap('k', () => 1, { lock: { ttlMs: -5 } }), /option lock\.ttlMs/);
    await cache.close();
  });

  it('@Cached takes lock, checked at decoration; with a Keyv store the call rejects, naming the option', async () => {
    assert.throws(() => {
      class Bad {
        @Cached({ lock: { wait: 10 } as LockOptions })
        async read(): Promise<number> {
          return Promise.resolve(1);
        }
      }
      return Bad;
    }, /@Cached.*: option lock: unknown option wait/);
    const cache = new TagCache({ store: new Keyv() });
    class Reports {
      @Cached({ cache, lock: true })
      async yearly(): Promise<number> {
        return Promise.resolve(2026);
      }
    }
    await assert.rejects(new Reports().yearly(), (error: unknown) => error instanceof CacheTagsError && error.code === 'E_INVALID_OPTION' && /option lock needs a store that can take a lock/.test(error.message));
    await cache.close();
  });
});
