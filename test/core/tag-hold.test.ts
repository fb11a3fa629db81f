/*
 * Holding tags ahead of a commit (TagCache.holdTags): two caches on one Redis stand for two
 * processes, `db` for the rows a commit makes visible. The first test shows the stale read that an
 * ordinary version written before the commit lets through; the others, that a held one does not.
 * The near-cache test revokes the writer's ACL after its hold, so that the invalidation that
 * replaces the hold is refused: a real server's answer, standing for a writer whose invalidation
 * is late for whatever reason.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { TagCache, type TagCacheOptions } from '../../lib/index.js';
import { OwnRedis, eventually } from '../support/redis-server.js';
import { needs } from '../support/servers.js';

/** Waits until `reader` serves the new title from its cache again: the invalidation replaced the hold. */
async function storedAgain(reader: TagCache, db: { title: string }): Promise<void> {
  let runs = 0;
  await eventually(async () => {
    const before = runs;
    assert.equal(await reader.wrap('row', () => (runs++, db.title), { tags: ['Row'] }), 'new');
    return runs === before;
  }, 'the value is stored again once the invalidation replaced the hold');
}

describe('TagCache.holdTags on Redis', needs('redis'), () => {
  let redis: OwnRedis;
  const caches: TagCache[] = [];
  let namespaces = 0;
  /** A writer and a reader: two processes sharing one namespace. */
  const pair = (options: TagCacheOptions = {}) => {
    const namespace = `hold-${namespaces++}`;
    const made = [new TagCache({ store: redis.url, namespace, ...options }), new TagCache({ store: redis.url, namespace, ...options })];
    caches.push(...made);
    return { writer: made[0], reader: made[1], namespace };
  };
  before(async () => {
    redis = await OwnRedis.start();
  });
  after(async () => {
    await Promise.all(caches.map((c) => c.close()));
    await redis.stop();
  });

  it('without a hold, a version written before the commit lets a value read before it be served after it (the stale read a hold prevents)', async () => {
    const { writer, reader } = pair();
    const db = { title: 'old' };
    await writer.invalidateTags(['Row']); // an ordinary version, written before the commit
    assert.equal(await reader.wrap('row', () => db.title, { tags: ['Row'] }), 'old');
    db.title = 'new'; // the commit
    assert.equal(await reader.wrap('row', () => db.title, { tags: ['Row'] }), 'old', 'served stale: the value read before the commit was stored under the new version');
  });

  it('while tags are held, a value read before the commit is not stored, so none is served once the commit is visible', async () => {
    const { writer, reader } = pair();
    const db = { title: 'old' };
    const notStored: string[] = [];
    reader.on('stale', ({ key, reason }) => notStored.push(`${key}: ${reason}`));
    const hold = writer.holdTags(['Row']);
    await writer.getTagVersions(['Row']); // the writer's connection answers in order: the hold has landed
    assert.equal(await reader.wrap('row', () => db.title, { tags: ['Row'] }), 'old');
    assert.deepEqual(notStored, ['row: invalidation-pending']);
    db.title = 'new'; // the commit; its invalidation has not been sent yet
    assert.equal(await reader.wrap('row', () => db.title, { tags: ['Row'] }), 'new');
    await hold.invalidate();
    await storedAgain(reader, db);
  });

  it('an entry stored before the hold is not served under it, nor once it expired unreplaced', async () => {
    const { writer, reader, namespace } = pair();
    const db = { title: 'old' };
    assert.equal(await reader.wrap('row', () => db.title, { tags: ['Row'] }), 'old');
    writer.holdTags(['Row']);
    await writer.getTagVersions(['Row']);
    db.title = 'new';
    assert.equal(await reader.wrap('row', () => db.title, { tags: ['Row'] }), 'new');
    // What its expiry does, now: the invalidation that should replace the hold never came.
    assert.equal(await redis.command('DEL', `{${namespace}}:t:Row`), 1, "the tag's held version");
    let runs = 0;
    const read = () => reader.wrap('row', () => (runs++, db.title), { tags: ['Row'] });
    assert.equal(await read(), 'new');
    assert.equal(await read(), 'new');
    assert.equal(runs, 1, 'the old entry stays dead, and the new value is stored');
  });

  it('once the hold is acknowledged, invalidate() resolves (its event emitted) without waiting for the invalidation, which lands by itself', async () => {
    const { writer, reader } = pair({ invalidationTimeoutMs: 60_000, timeoutMs: 60_000 });
    const db = { title: 'old' };
    assert.equal(await reader.wrap('row', () => db.title, { tags: ['Row'] }), 'old');
    const hold = writer.holdTags(['Row']);
    await writer.getTagVersions(['Row']);
    db.title = 'new';
    const events: boolean[] = [];
    writer.on('invalidate', ({ deferred }) => events.push(deferred));
    redis.pause();
    try {
      await hold.invalidate(); // would wait for the 60 s bound if it awaited the invalidation
      assert.deepEqual(events, [false], 'one invalidate event, not deferred, by the time it resolved');
    } finally {
      redis.resume();
    }
    assert.equal(await reader.wrap('row', () => db.title, { tags: ['Row'] }), 'new');
    await storedAgain(reader, db);
    assert.deepEqual(events, [false], 'and no second event when it lands');
  });

  it('a near cache in another process drops what it holds at the hold: while the invalidation after the commit is refused, none serves the old value past maxLagMs', async () => {
    const maxLagMs = 50;
    const user = `hold-writer-${namespaces}`;
    await redis.command('ACL', 'SETUSER', user, 'on', '>secret', '~*', '&*', '+@all');
    const namespace = `hold-${namespaces++}`;
    const said: string[] = [];
    const logger = { warn: (line: string) => said.push(line), error: (line: string) => said.push(line) };
    const writer = new TagCache({ store: redis.url.replace('redis://', `redis://${user}:secret@`), namespace, invalidationTimeoutMs: 60_000, logger });
    const reader = new TagCache({ store: redis.url, namespace, nearCache: { maxLagMs } });
    caches.push(writer, reader);
    const db = { title: 'old' };
    const read = () => reader.wrap('row', () => db.title, { tags: ['Row'] });
    await eventually(async () => (await read(), reader.stats().nearHits > 0), 'the near cache serves');
    const hold = writer.holdTags(['Row']);
    await writer.getTagVersions(['Row']);
    await redis.command('ACL', 'SETUSER', user, '-@all'); // from now on the writer's invalidation is refused (NOPERM)
    db.title = 'new'; // the commit
    const served: [afterMs: number, title: string][] = [];
    try {
      await hold.invalidate(); // returns: the hold stands
      const returned = performance.now();
      while (performance.now() - returned < 4 * maxLagMs) {
        const start = performance.now() - returned;
        served.push([start, await read()]);
        await delay(5);
      }
    } finally {
      await redis.command('ACL', 'SETUSER', user, '+@all');
    }
    const stale = served.filter(([start, title]) => start > maxLagMs && title !== 'new');
    assert.deepEqual(stale, [], `reads past maxLagMs after the write returned, of ${served.length}`);
    assert.ok(served.length > 10, `reads: ${served.length}`);
    assert.ok(said.some((line) => line.includes('store invalidate failed')), `the invalidation was refused meanwhile: ${JSON.stringify(said)}`);
    await storedAgain(reader, db);
  });

  it('a hold the store did not acknowledge leaves invalidate() to await the invalidation', async () => {
    const { writer } = pair({ timeoutMs: 100, invalidationTimeoutMs: 60_000 });
    await writer.invalidateTags(['Warm-up']);
    let invalidated = false;
    writer.on('invalidate', ({ deferred }) => (invalidated = !deferred));
    redis.pause();
    let resolved = false;
    let ending: Promise<void>;
    try {
      const hold = writer.holdTags(['Row']);
      await new Promise((resolve) => setTimeout(resolve, 300)); // past the hold's 100 ms bound
      ending = hold.invalidate().then(() => {
        resolved = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(resolved, false, 'resolved with neither the hold nor the invalidation acknowledged');
    } finally {
      redis.resume();
    }
    await ending!;
    assert.equal(invalidated, true, 'resolved once the invalidation was acknowledged');
  });
});
