import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TagCache } from '../../lib/index.js';
import { OwnRedis } from '../support/redis-server.js';
import { needs } from '../support/servers.js';
import { Photo } from './support/model.js';
import { databaseCases } from './support/orm.js';
import { ormSuite } from './support/suite.js';

/*
 * A flush that runs in a transaction of its own has its tags held just before its commit (the rows
 * are written by then), and resolves once the hold is acknowledged: frozen (SIGSTOP) after the
 * hold was answered and before the commit, Redis cannot acknowledge the invalidation after the
 * commit, and the flush still resolves, with no cache serving the old row. Without the hold it
 * waits for the invalidation and rejects (onInvalidationTimeout "reject").
 */
for (const db of databaseCases) {
  describe(`MikroORM flush on ${db.name}, Redis frozen before the commit`, { skip: db.skip || needs('redis').skip }, () => {
    let redis: OwnRedis;
    before(async () => {
      redis = await OwnRedis.start();
    });
    after(async () => {
      await redis?.stop();
    });
    const suite = ormSuite(db, {
      name: 'a Redis of its own',
      skip: false,
      make: (options) => new TagCache({ store: redis.url, namespace: `t-${randomUUID()}`, invalidationTimeoutMs: 1500, onInvalidationTimeout: 'reject', ...options }),
    });

    it('a flush resolves once its hold is acknowledged, while Redis is frozen from before the commit on, and no cache serves the old row', async () => {
      // Another process: a second cache over the same store and namespace, with the old row cached.
      const other = new TagCache({ store: await suite.cache.store(), namespace: suite.cache.namespace });
      const title = () => other.wrap('photo 1 title', async () => (await suite.orm.em.fork().findOneOrFail(Photo, 1)).title, { tags: ['Photo_1'] });
      assert.equal(await title(), 'beach');
      assert.equal((await suite.svc.photo(1))?.title, 'beach');
      let frozen = false;
      /*
       * Before the commit, after the cache-tags subscriber (registered first, and MikroORM runs them
       * one after the other) sent the hold: the cache's connection answers in order, so once this
       * call is answered the hold is too. The invalidation after the commit then meets a frozen Redis.
       */
      suite.orm.em.getEventManager().registerSubscriber({
        beforeTransactionCommit: async () => {
          await suite.cache.getTagVersions(['Photo']);
          frozen = true;
          redis.pause();
        },
      });
      const em = suite.orm.em.fork();
      (await em.findOneOrFail(Photo, 1)).title = 'held';
      try {
        await em.flush();
        assert.equal(frozen, true, 'Redis was frozen before the flush resolved');
      } finally {
        redis.resume();
      }
      assert.equal((await suite.svc.photo(1))?.title, 'held');
      assert.equal(await title(), 'held', 'another process does not serve the old row');
    });
  });
}
