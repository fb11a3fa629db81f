import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { EntitySubscriberInterface } from 'typeorm';
import { TagCache } from '../../lib/index.js';
import { OwnRedis } from '../support/redis-server.js';
import { needs } from '../support/servers.js';
import { databaseCases } from './support/databases.js';
import { Photo } from './support/entities.js';
import { useDatabase } from './support/harness.js';
import { seed } from './support/seed.js';

/*
 * A save's commit is preceded by a hold of its tags (TagCache.holdTags), and the save resolves once
 * Redis acknowledged the hold or, failing that, the invalidation after the commit: these tests
 * freeze Redis (SIGSTOP) before the hold is sent, or after it was acknowledged (so that the
 * invalidation after the commit cannot be), and check that the save waits for what it needs and no
 * more, fails when nothing is ever acknowledged, and that no cache serves the old row once it resolved.
 */
for (const db of databaseCases) {
  describe(`TypeORM save on ${db.name}, Redis frozen before the commit`, { skip: db.skip || needs('redis').skip }, () => {
    let redis: OwnRedis;
    before(async () => {
      redis = await OwnRedis.start();
    });
    after(async () => {
      await redis?.stop();
    });
    const h = useDatabase(db, () => new TagCache({ store: redis.url, invalidationTimeoutMs: 1500, onInvalidationTimeout: 'reject' }));

    /**
     * Freezes Redis before the save's commit. Without `after`: first in line, before the cache-tags
     * subscriber sends the hold. With it: once `after` resolved, which TypeORM's broadcast (it runs
     * the subscribers side by side) starts after the cache-tags subscriber sent the hold; the
     * invalidation after the commit then meets a frozen Redis.
     */
    function freezeBeforeCommit(after?: () => Promise<unknown>): { frozen: () => boolean; off: () => void } {
      let frozen = false;
      const freeze = () => {
        frozen = true;
        redis.pause();
      };
      const subscriber: EntitySubscriberInterface = { beforeTransactionCommit: after ? () => after().then(freeze) : freeze };
      if (after) h.dataSource.subscribers.push(subscriber);
      else h.dataSource.subscribers.unshift(subscriber);
      return { frozen: () => frozen, off: () => h.dataSource.subscribers.splice(h.dataSource.subscribers.indexOf(subscriber), 1) };
    }

    it('repository.save resolves only once Redis acknowledged the hold of its tags or their invalidation', async () => {
      const s = await seed(h.dataSource);
      const tag = `Photo_${s.p1.id}`;
      const versionBefore = (await h.probe.versions([tag]))[tag];
      const freeze = freezeBeforeCommit();
      let settled = false;
      const saving = h.dataSource
        .getRepository(Photo)
        .save({ id: s.p1.id, title: 'frozen' })
        .finally(() => (settled = true));
      try {
        while (!freeze.frozen()) await delay(5);
        await delay(150);
        assert.equal(settled, false, 'the save resolved with neither its hold nor its invalidation acknowledged');
      } finally {
        freeze.off();
        redis.resume();
      }
      await saving;
      assert.notEqual((await h.probe.versions([tag]))[tag], versionBefore, 'held or invalidated once the save resolved');
    });

    it('with its hold acknowledged, repository.save resolves while Redis is frozen from before the commit on, and no cache serves the old row', async () => {
      const s = await seed(h.dataSource);
      const repo = h.dataSource.getRepository(Photo);
      const read = () => h.cache.wrap(`photo:${s.p1.id}`, async () => (await repo.findOneByOrFail({ id: s.p1.id })).title, { tags: [`Photo_${s.p1.id}`] });
      assert.equal(await read(), s.p1.title);
      // The cache's connection answers in order: once this call is answered, so is the hold sent before it.
      const freeze = freezeBeforeCommit(() => h.cache.getTagVersions(['Photo']));
      try {
        await repo.save({ id: s.p1.id, title: 'held' });
        assert.equal(freeze.frozen(), true);
      } finally {
        freeze.off();
        redis.resume();
      }
      // As the probe reads versions: a second cache over the same store and namespace, read first.
      const other = new TagCache({ store: await h.cache.store(), namespace: h.cache.namespace });
      assert.equal(await other.wrap(`photo:${s.p1.id}`, async () => (await repo.findOneByOrFail({ id: s.p1.id })).title, { tags: [`Photo_${s.p1.id}`] }), 'held', 'another process does not serve the old row');
      assert.equal(await read(), 'held');
    });

    it('repository.save rejects with E_INVALIDATION_PENDING when Redis never acknowledges (onInvalidationTimeout "reject"), the row committed', async () => {
      const s = await seed(h.dataSource);
      const freeze = freezeBeforeCommit();
      try {
        await assert.rejects(h.dataSource.getRepository(Photo).save({ id: s.p2.id, title: 'unacknowledged' }), { code: 'E_INVALIDATION_PENDING' });
      } finally {
        freeze.off();
        redis.resume();
      }
      assert.equal((await h.dataSource.getRepository(Photo).findOneByOrFail({ id: s.p2.id })).title, 'unacknowledged');
    });
  });
}
