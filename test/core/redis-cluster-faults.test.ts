/*
 * Redis Cluster faults while readers and writers run (docs/cluster.md, "Failover and resharding"):
 * a master killed with SIGKILL, its replica promoted by the cluster itself, and slots moved by
 * `redis-cli --cluster reshard`. A cluster of the test's own with a low `cluster-node-timeout`, so
 * that a failover takes about two seconds. Each test uses its own namespace; caches of one
 * namespace play processes.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { TagCache } from '../../lib/index.js';
import { clusterKey } from '../../lib/core/redis-cluster-store.js';
import { Row, Traffic } from '../support/cached-row.js';
import { OwnRedisCluster, clusterTools } from '../support/redis-cluster.js';
import { eventually } from '../support/redis-server.js';

const NODE_TIMEOUT_MS = 1000;
const ALL_SLOTS = Array.from({ length: 16384 }, (_, slot) => slot);
type Slots = ReadonlySet<number>;

describe('TagCache on a Redis Cluster, under faults', clusterTools(), () => {
  let cluster: OwnRedisCluster;
  const caches: TagCache[] = [];
  let namespaces = 0;

  /** A writer and two readers of one namespace, as three processes. */
  const processes = (namespace: string): [TagCache, TagCache, TagCache] => {
    // Every write must be acknowledged: a failover must be over well within this bound.
    const made = [0, 1, 2].map(() => new TagCache({ store: { cluster: { rootNodes: cluster.rootNodes } }, namespace, invalidationTimeoutMs: 10_000, onInvalidationTimeout: 'reject' }));
    caches.push(...made);
    return made as [TagCache, TagCache, TagCache];
  };

  /** The first name `name(i)` whose store key `key(name)` hashes into one of `slots`. */
  const nameIn = async (slots: Slots, name: (i: number) => string, key: (name: string) => string): Promise<string> => {
    for (let from = 0; ; from += 500) {
      const names = Array.from({ length: 500 }, (_, i) => name(from + i));
      const found = (await cluster.keySlots(names.map(key))).findIndex((slot) => slots.has(slot));
      if (found >= 0) return names[found];
    }
  };

  /**
   * A namespace whose sequence, entry and tag versions hash into the slots given for each, with
   * their store keys as the cluster driver writes them.
   */
  const layout = async (where: { sequence: Slots; entry: Slots; tags: Slots[] }) => {
    const batch = namespaces++;
    const namespace = await nameIn(where.sequence, (i) => `f${batch}-${i}`, (ns) => `{${ns}}:s`);
    const entry = await nameIn(where.entry, (i) => `row-${i}`, (key) => `${namespace}:e:${key}`);
    const tagKey = (tag: string): string => clusterKey(`{${namespace}}:t:${tag}`);
    const tags: string[] = [];
    for (const slots of where.tags) tags.push(await nameIn(slots, (i) => `T${tags.length}-${i}`, tagKey));
    return { namespace, entry, tags, keys: { sequence: `{${namespace}}:s`, entry: `${namespace}:e:${entry}`, tags: tags.map(tagKey) } };
  };

  /** The sequence, an entry and one tag in `slots`, a second tag elsewhere: a fault there hits every kind of key. */
  const layoutIn = async (slots: Slots) => {
    const found = await layout({ sequence: slots, entry: slots, tags: [slots, new Set(ALL_SLOTS.filter((slot) => !slots.has(slot)))] });
    return { ...found, moved: [found.keys.sequence, found.keys.entry, found.keys.tags[0]] };
  };

  /** ASK and MOVED replies node-redis followed (it reports them on its tracing channel) while `run` ran. */
  const redirections = async (run: () => Promise<void>): Promise<{ ask: number; moved: number }> => {
    const seen = { ask: 0, moved: 0 };
    const count = (message: unknown): void => {
      const { error } = message as { error?: Error };
      if (error?.message.startsWith('ASK')) seen.ask++;
      if (error?.message.startsWith('MOVED')) seen.moved++;
    };
    subscribe('node-redis:error', count);
    try {
      await run();
    } finally {
      unsubscribe('node-redis:error', count);
    }
    return seen;
  };

  /** Waits until one process hits what another stored (each reopens its circuit within `resetAfterMs`). */
  const hitsAgain = (row: Row, [first, second]: readonly TagCache[], key: string): Promise<void> =>
    eventually(async () => {
      assert.equal(await row.read(first, key), row.committed);
      const runs = row.runs;
      assert.equal(await row.read(second, key), row.committed);
      return row.runs === runs;
    }, 'the second process hits what the first stored');

  before(async () => {
    cluster = await OwnRedisCluster.start({ nodeTimeoutMs: NODE_TIMEOUT_MS });
  });
  after(async () => {
    await Promise.all(caches.map((c) => c.close()));
    await cluster?.stop();
  });

  it('a master killed during reads and writes: its replica takes over, 0 stale reads, no failed request, hits again after', async (t) => {
    const victim = cluster.ports[1];
    const slots = await cluster.slotsOf(victim);
    assert.ok(slots.length > 0, 'redis-cli made the second node a master');
    const { namespace, entry, tags, moved } = await layoutIn(new Set(slots));
    for (const key of moved) assert.equal(await cluster.masterOf(key), victim, `${key} lives on the master to kill`);
    const replica = await cluster.replicaOf(victim);
    const [writer, ...readers] = processes(namespace);
    let fellBack = 0;
    const unavailable = readers.map((reader) => reader.on('miss', ({ reason }) => reason === 'store-unavailable' && fellBack++));
    const row = new Row(tags);
    const traffic = new Traffic(row, writer, readers, entry);
    await traffic.writesDone(10);
    const killedAt = performance.now();
    await cluster.kill(victim);
    try {
      await cluster.untilMaster(replica);
      const failoverMs = performance.now() - killedAt;
      await traffic.writesDone(20);
      const counts = await traffic.stop();
      unavailable.forEach((off) => off());

      assert.equal(counts.failed, 0, `no read or write failed: ${String(counts.firstError)}`);
      assert.equal(row.stale, 0, 'no read older than a write that had returned');
      assert.ok(fellBack > 0, 'reads fell back to the source while the master was down');
      await hitsAgain(row, readers, entry);
      // Measured, never asserted (a loaded machine is slower); docs/cluster.md quotes a run.
      t.diagnostic(`killed master: ${counts.reads} reads, ${counts.writes} writes, ${row.stale} stale, ${fellBack} reads from the source, replica promoted ${Math.round(failoverMs)} ms after the kill`);
    } finally {
      await traffic.stop();
      await cluster.restart(victim);
      await cluster.settled();
    }
  });

  it('resharding the slots of the sequence, an entry and a tag (redis-cli --cluster reshard) during reads and writes: ASK and MOVED followed, 0 stale reads, no failed request', async (t) => {
    const masters = (await cluster.nodes()).filter((node) => node.master).map((node) => node.port);
    const [from, to] = masters;
    const slots = (await cluster.slotsOf(from)).slice(0, 100);
    const { namespace, entry, tags, moved } = await layoutIn(new Set(slots));
    const [writer, ...readers] = processes(namespace);
    const row = new Row(tags);
    const traffic = new Traffic(row, writer, readers, entry);
    await traffic.writesDone(5);
    const seen = await redirections(async () => {
      await cluster.reshard(from, to, slots.length);
      await traffic.writesDone(10);
    });
    const counts = await traffic.stop();
    for (const key of moved) assert.equal(await cluster.masterOf(key), to, `${key} was moved`);

    assert.equal(counts.failed, 0, `no read or write failed: ${String(counts.firstError)}`);
    assert.equal(row.stale, 0, 'no read older than a write that had returned');
    assert.ok(seen.moved > 0, 'node-redis followed MOVED');
    await hitsAgain(row, readers, entry);
    t.diagnostic(`resharding ${slots.length} slots: ${counts.reads} reads, ${counts.writes} writes, ${row.stale} stale, ${seen.ask} ASK and ${seen.moved} MOVED followed`);
  });

  it('moving slots by hand (MIGRATING/IMPORTING, keys moved with MIGRATE) while they are half-moved: ASK on every call for them, 0 stale reads, no failed request', async (t) => {
    const [from, to] = (await cluster.nodes()).filter((node) => node.master).map((node) => node.port);
    const { namespace, entry, tags, moved } = await layoutIn(new Set(await cluster.slotsOf(from)));
    const [writer, ...readers] = processes(namespace);
    const row = new Row(tags);
    const traffic = new Traffic(row, writer, readers, entry);
    await traffic.writesDone(5);
    const seen = await redirections(async () => {
      const bySlot = new Map((await cluster.keySlots(moved)).map((slot, i) => [slot, moved[i]]));
      const finishes = [];
      for (const key of bySlot.values()) finishes.push(await cluster.migrate(key, to));
      // Every key of these slots is on `to` now, the slots still `from`'s: `from` answers ASK.
      await traffic.writesDone(10);
      for (const finish of finishes) await finish();
      await traffic.writesDone(5);
    });
    const counts = await traffic.stop();
    for (const key of moved) assert.equal(await cluster.masterOf(key), to, `${key} was moved`);

    assert.equal(counts.failed, 0, `no read or write failed: ${String(counts.firstError)}`);
    assert.equal(row.stale, 0, 'no read older than a write that had returned');
    assert.ok(seen.ask > 0 && seen.moved > 0, 'node-redis followed ASK and MOVED');
    await hitsAgain(row, readers, entry);
    t.diagnostic(`slots moved by hand: ${counts.reads} reads, ${counts.writes} writes, ${row.stale} stale, ${seen.ask} ASK and ${seen.moved} MOVED followed`);
  });

  it('a hit reads its keys on every master at once, and an invalidation writes its tags at once: a frozen master holds up no other', async () => {
    // Not the node the helpers ask about the cluster: it is frozen for a moment.
    const [frozen, sequenceMaster, other] = (await cluster.nodes()).filter((node) => node.master).map((node) => node.port).sort((a, b) => Number(a === cluster.ports[0]) - Number(b === cluster.ports[0]));
    const on = async (port: number): Promise<Slots> => new Set(await cluster.slotsOf(port));
    // The entry (read first) and the first tag (written first) on the frozen master.
    const { namespace, entry, tags } = await layout({ sequence: await on(sequenceMaster), entry: await on(frozen), tags: [await on(frozen), await on(other)] });
    const [cache] = processes(namespace);
    const row = new Row(tags);
    await row.read(cache, entry);
    const calls = async (command: string): Promise<number[]> => Promise.all([sequenceMaster, other].map(async (port) => (await cluster.commandCounts(port))[command] ?? 0));
    const reachedBoth = async (command: string, before: number[]): Promise<boolean> => (await calls(command)).every((n, i) => n > before[i]);

    const getsBefore = await calls('get');
    cluster.pause(frozen);
    const hit = row.read(cache, entry);
    try {
      await eventually(() => reachedBoth('get', getsBefore), 'the sequence and the second tag were read while the master of the entry was frozen');
    } finally {
      cluster.resume(frozen);
    }
    assert.equal(await hit, row.committed);

    const [bumpsBefore, setsBefore] = [await calls('evalsha'), await calls('set')];
    cluster.pause(frozen);
    const write = row.write(cache);
    try {
      await eventually(async () => (await calls('evalsha'))[0] > bumpsBefore[0] && (await calls('set'))[1] > setsBefore[1], 'the second tag was written while the master of the first was frozen');
    } finally {
      cluster.resume(frozen);
    }
    await write;
    assert.equal(await row.read(cache, entry), row.committed);
  });
});
