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
 * A save that opens its own transaction is invalidated while TypeORM releases the connection and
 * unwinds, and awaits the acknowledgement itself: these tests freeze Redis (SIGSTOP) after the
 * commit and check that the save still waits for it, and fails when it never comes.
 */
for (const db of databaseCases) {
  describe(`TypeORM save on ${db.name}, Redis frozen after the commit`, { skip: db.skip || needs('redis').skip }, () => {
    let redis: OwnRedis;
    before(async () => {
      redis = await OwnRedis.start();
    });
    after(async () => {
      await redis?.stop();
    });
    const h = useDatabase(db, () => new TagCache({ store: redis.url, invalidationTimeoutMs: 1500, onInvalidationTimeout: 'reject' }));

    /** Freezes Redis as the save's transaction commits, before its invalidation is sent. */
    function freezeAtCommit(): { committed: () => boolean; off: () => void } {
      let committed = false;
      const subscriber: EntitySubscriberInterface = {
        afterTransactionCommit: () => {
          committed = true;
          redis.pause();
        },
      };
      // First in line, so that Redis is frozen before the cache-tags subscriber hears of the commit.
      h.dataSource.subscribers.unshift(subscriber);
      return { committed: () => committed, off: () => h.dataSource.subscribers.splice(h.dataSource.subscribers.indexOf(subscriber), 1) };
    }

    it('repository.save resolves only once Redis acknowledged the invalidation', async () => {
      const s = await seed(h.dataSource);
      const tag = `Photo_${s.p1.id}`;
      const versionBefore = (await h.probe.versions([tag]))[tag];
      const freeze = freezeAtCommit();
      let settled = false;
      const saving = h.dataSource
        .getRepository(Photo)
        .save({ id: s.p1.id, title: 'frozen' })
        .finally(() => (settled = true));
      try {
        while (!freeze.committed()) await delay(5);
        await delay(150);
        assert.equal(settled, false, 'the save resolved before Redis acknowledged its invalidation');
      } finally {
        freeze.off();
        redis.resume();
      }
      await saving;
      assert.notEqual((await h.probe.versions([tag]))[tag], versionBefore, 'invalidated once the save resolved');
    });

    it('repository.save rejects with E_INVALIDATION_PENDING when Redis never acknowledges (onInvalidationTimeout "reject"), the row committed', async () => {
      const s = await seed(h.dataSource);
      const freeze = freezeAtCommit();
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
