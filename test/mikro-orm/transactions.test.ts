import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { TagCache, setDefaultTagCache } from '../../lib/index.js';
import { storeCases } from '../support/stores.js';
import { Photo } from './support/model.js';
import { databaseCases, openOrm } from './support/orm.js';
import { PhotoService, PhotoSource, seed } from './support/service.js';

for (const db of databaseCases) {
  for (const store of storeCases) {
    describe(`MikroORM transactions, ${db.name} + ${store.name} store`, { skip: db.skip || store.skip }, () => {
      let orm: MikroORM;
      let close: () => Promise<void>;
      let cache: TagCache;
      let svc: PhotoService;
      let bumps: string[][];
      const em = () => orm.em.fork() as SqlEntityManager;

      before(async () => ({ orm, close } = await openOrm(db)));
      after(async () => {
        // A closed Redis-backed cache left as the default would reconnect on the next suite's writes.
        setDefaultTagCache(new TagCache());
        await cache?.close();
        await close?.();
      });
      beforeEach(async () => {
        await cache?.close();
        setDefaultTagCache(new TagCache());
        await seed(orm);
        cache = store.make();
        setDefaultTagCache(cache);
        bumps = [];
        cache.on('invalidate', ({ tags }) => bumps.push(tags));
        svc = new PhotoService(new PhotoSource(orm));
      });

      it('flush outside a transaction: the tag version in the store has changed when the await returns', async () => {
        const { User_1_photos: old } = await cache.getTagVersions(['User_1_photos']);
        const fork = em();
        (await fork.findOneOrFail(Photo, 1)).title = 'sunset';
        await fork.flush();
        const { User_1_photos: now } = await cache.getTagVersions(['User_1_photos']);
        assert.notEqual(now, old);
      });

      it('em.transactional: nothing is bumped before the commit, everything once when its await returns', async () => {
        assert.deepEqual(await svc.photosOfUser(2), ['city']);
        await em().transactional(async (tem) => {
          await tem.nativeUpdate(Photo, { id: 1 }, { user: 2 });
          (await tem.findOneOrFail(Photo, 2)).title = 'pines';
          await tem.flush();
          assert.deepEqual(bumps, [], 'no invalidation while the transaction is open');
        });
        assert.equal(bumps.length, 1, 'one batched invalidation at the commit');
        assert.ok(bumps[0].includes('User_1_photos') && bumps[0].includes('User_2_photos') && bumps[0].includes('Photo_2'));
        assert.deepEqual(await svc.photosOfUser(2), ['beach', 'city']);
      });

      it('rollback: a value cached from the transaction\'s uncommitted rows is not served after it', async () => {
        await assert.rejects(
          em().transactional(async (tem) => {
            (await tem.findOneOrFail(Photo, 1)).title = 'uncommitted';
            await tem.flush();
            assert.equal((await svc.photo(1))?.title, 'uncommitted', 'read inside the transaction sees its own write');
            throw new Error('abort');
          }),
          /abort/,
        );
        assert.equal(bumps.length, 1, 'the rollback bumps the buffered tags');
        assert.equal((await svc.photo(1))?.title, 'beach');
      });

      it('nested transactions: a caught inner rollback is bumped with the outer transaction, once', async () => {
        await em().transactional(async (outer) => {
          await outer.nativeUpdate(Photo, { id: 3 }, { title: 'town' });
          await assert.rejects(
            outer.transactional(async (inner) => {
              await inner.nativeUpdate(Photo, { id: 1 }, { title: 'inner' });
              assert.equal((await svc.photo(1))?.title, 'inner');
              throw new Error('inner abort');
            }),
            /inner abort/,
          );
          assert.deepEqual(bumps, []);
        });
        assert.equal(bumps.length, 1);
        assert.ok(bumps[0].includes('Photo_1') && bumps[0].includes('Photo_3'));
        assert.equal((await svc.photo(1))?.title, 'beach', 'the value read inside the rolled-back savepoint is gone');
        assert.equal((await svc.photo(3))?.title, 'town');
      });

      it('begin / rollback on an entity manager', async () => {
        const fork = em();
        await fork.begin();
        await fork.nativeDelete(Photo, { id: 3 });
        await fork.rollback();
        assert.equal(bumps.length, 1);
        assert.equal(await svc.countPhotos(), 3);
      });
    });
  }
}
