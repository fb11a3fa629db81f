import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { storeCases } from '../support/stores.js';
import { Photo } from './support/model.js';
import { databaseCases } from './support/orm.js';
import { ormSuite } from './support/suite.js';

for (const db of databaseCases) {
  for (const store of storeCases) {
    describe(`MikroORM transactions, ${db.name} + ${store.name} store`, { skip: db.skip || store.skip }, () => {
      const suite = ormSuite(db, store);
      let bumps: string[][];
      const em = () => suite.orm.em.fork() as SqlEntityManager;

      beforeEach(() => {
        bumps = [];
        suite.cache.on('invalidate', ({ tags }) => bumps.push(tags));
      });

      it('flush outside a transaction: the tag version in the store has changed when the await returns', async () => {
        const { User_1_photos: old } = await suite.cache.getTagVersions(['User_1_photos']);
        const fork = em();
        (await fork.findOneOrFail(Photo, 1)).title = 'sunset';
        await fork.flush();
        const { User_1_photos: now } = await suite.cache.getTagVersions(['User_1_photos']);
        assert.notEqual(now, old);
      });

      it('em.transactional: nothing is bumped before the commit, everything once when its await returns', async () => {
        assert.deepEqual(await suite.svc.photosOfUser(2), ['city']);
        await em().transactional(async (tem) => {
          await tem.nativeUpdate(Photo, { id: 1 }, { user: 2 });
          (await tem.findOneOrFail(Photo, 2)).title = 'pines';
          await tem.flush();
          assert.deepEqual(bumps, [], 'no invalidation while the transaction is open');
        });
        assert.equal(bumps.length, 1, 'one batched invalidation at the commit');
        assert.ok(bumps[0].includes('User_1_photos') && bumps[0].includes('User_2_photos') && bumps[0].includes('Photo_2'));
        assert.deepEqual(await suite.svc.photosOfUser(2), ['beach', 'city']);
      });

      it('rollback: a value cached from the transaction\'s uncommitted rows is not served after it', async () => {
        await assert.rejects(
          em().transactional(async (tem) => {
            (await tem.findOneOrFail(Photo, 1)).title = 'uncommitted';
            await tem.flush();
            assert.equal((await suite.svc.photo(1))?.title, 'uncommitted', 'read inside the transaction sees its own write');
            throw new Error('abort');
          }),
          /abort/,
        );
        assert.equal(bumps.length, 1, 'the rollback bumps the buffered tags');
        assert.equal((await suite.svc.photo(1))?.title, 'beach');
      });

      it('nested transactions: a caught inner rollback is bumped with the outer transaction, once', async () => {
        await em().transactional(async (outer) => {
          await outer.nativeUpdate(Photo, { id: 3 }, { title: 'town' });
          await assert.rejects(
            outer.transactional(async (inner) => {
              await inner.nativeUpdate(Photo, { id: 1 }, { title: 'inner' });
              assert.equal((await suite.svc.photo(1))?.title, 'inner');
              throw new Error('inner abort');
            }),
            /inner abort/,
          );
          assert.deepEqual(bumps, []);
        });
        assert.equal(bumps.length, 1);
        assert.ok(bumps[0].includes('Photo_1') && bumps[0].includes('Photo_3'));
        assert.equal((await suite.svc.photo(1))?.title, 'beach', 'the value read inside the rolled-back savepoint is gone');
        assert.equal((await suite.svc.photo(3))?.title, 'town');
      });

      it('nested transactions: a committed savepoint waits for the outer commit and is bumped with it, once', async () => {
        assert.equal((await suite.svc.photo(1))?.title, 'beach');
        await em().transactional(async (outer) => {
          await outer.nativeUpdate(Photo, { id: 3 }, { title: 'town' });
          await outer.transactional(async (inner) => {
            await inner.nativeUpdate(Photo, { id: 1 }, { title: 'inner' });
            (await inner.findOneOrFail(Photo, 2)).title = 'pines';
            await inner.flush();
          });
          assert.deepEqual(bumps, [], 'the savepoint\'s release bumps nothing: the outer transaction can still roll it back');
        });
        assert.equal(bumps.length, 1);
        assert.ok(['Photo_1', 'Photo_2', 'Photo_3'].every((tag) => bumps[0].includes(tag)), JSON.stringify(bumps));
        assert.equal((await suite.svc.photo(1))?.title, 'inner');
      });

      it('nested transactions: an outer rollback after a committed savepoint bumps once, and the savepoint\'s write is gone', async () => {
        await assert.rejects(
          em().transactional(async (outer) => {
            await outer.transactional(async (inner) => void (await inner.nativeUpdate(Photo, { id: 1 }, { title: 'inner' })));
            assert.equal((await suite.svc.photo(1))?.title, 'inner', 'read inside the outer transaction sees the savepoint\'s write');
            assert.deepEqual(bumps, []);
            throw new Error('outer abort');
          }),
          /outer abort/,
        );
        assert.equal(bumps.length, 1);
        assert.equal((await suite.svc.photo(1))?.title, 'beach');
      });

      it('begin / rollback on an entity manager', async () => {
        const fork = em();
        await fork.begin();
        await fork.nativeDelete(Photo, { id: 3 });
        await fork.rollback();
        assert.equal(bumps.length, 1);
        assert.equal(await suite.svc.countPhotos(), 3);
      });
    });
  }
}
