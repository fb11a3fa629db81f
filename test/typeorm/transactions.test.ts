import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TagCache } from '../../lib/index.js';
import { databaseCases } from './support/databases.js';
import { Photo } from './support/entities.js';
import { useDatabase } from './support/harness.js';
import { seed } from './support/seed.js';

for (const db of databaseCases) {
  describe(`TypeORM transactions on ${db.name}`, { skip: db.skip }, () => {
    const h = useDatabase(db, () => new TagCache());

    it('manager.transaction: nothing inside, everything once when the commit’s await returns', async () => {
      const s = await seed(h.dataSource);
      const tags = [`Photo_${s.p1.id}`, `Photo_${s.p2.id}`, `User_${s.u1.id}_photos`];
      const before = await h.probe.versions(tags);
      const events: string[][] = [];
      const off = h.cache.on('invalidate', (e) => events.push(e.tags));
      await h.dataSource.transaction(async (m) => {
        await m.getRepository(Photo).update({ id: s.p1.id }, { title: 'a' });
        await m.getRepository(Photo).save({ id: s.p2.id, title: 'b' });
        assert.deepEqual(await h.probe.versions(tags), before, 'invalidated before the commit');
      });
      off();
      const after = await h.probe.versions(tags);
      assert.ok(tags.every((t) => after[t] !== before[t]), 'not invalidated when the commit returned');
      assert.equal(events.length, 1, 'one batched invalidation per transaction');
    });

    it('a savepoint (nested transaction) does not end it; the outer commit does', async () => {
      const s = await seed(h.dataSource);
      const tag = `Photo_${s.p1.id}`;
      const before = await h.probe.versions([tag]);
      await h.dataSource.transaction(async (outer) => {
        await outer.transaction(async (inner) => {
          await inner.getRepository(Photo).update({ id: s.p1.id }, { title: 'inner' });
        });
        assert.deepEqual(await h.probe.versions([tag]), before, 'the savepoint release flushed');
      });
      assert.notEqual((await h.probe.versions([tag]))[tag], before[tag]);
    });

    it('rollback invalidates too (values read inside may have been cached)', async () => {
      const s = await seed(h.dataSource);
      const tag = `Photo_${s.p1.id}`;
      const before = await h.probe.versions([tag]);
      await assert.rejects(
        h.dataSource.transaction(async (m) => {
          await m.getRepository(Photo).update({ id: s.p1.id }, { title: 'gone' });
          throw new Error('abort');
        }),
        /abort/,
      );
      assert.notEqual((await h.probe.versions([tag]))[tag], before[tag]);
      assert.equal((await h.dataSource.getRepository(Photo).findOneByOrFail({ id: s.p1.id })).title, 'beach');
    });

    it('a QueryRunner transaction: flushed by commitTransaction', async () => {
      const s = await seed(h.dataSource);
      const tag = `Photo_${s.p1.id}`;
      const before = await h.probe.versions([tag]);
      const qr = h.dataSource.createQueryRunner();
      await qr.connect();
      try {
        await qr.startTransaction();
        await qr.manager.getRepository(Photo).delete({ id: s.p3.id });
        await qr.manager.getRepository(Photo).increment({ id: s.p1.id }, 'views', 1);
        assert.deepEqual(await h.probe.versions([tag]), before);
        await qr.commitTransaction();
        assert.notEqual((await h.probe.versions([tag]))[tag], before[tag]);
      } finally {
        await qr.release();
      }
    });

    it('concurrent transactions keep separate buffers', { skip: db.name === 'sqlite' ? 'SQLite has one connection: one transaction at a time' : false }, async () => {
      const s = await seed(h.dataSource);
      const [a, b] = [h.dataSource.createQueryRunner(), h.dataSource.createQueryRunner()];
      await Promise.all([a.connect(), b.connect()]);
      try {
        await a.startTransaction();
        await b.startTransaction();
        await a.manager.getRepository(Photo).update({ id: s.p1.id }, { title: 'a' });
        await b.manager.getRepository(Photo).update({ id: s.p2.id }, { title: 'b' });
        const tags = [`Photo_${s.p1.id}`, `Photo_${s.p2.id}`];
        const before = await h.probe.versions(tags);
        await a.commitTransaction();
        const mid = await h.probe.versions(tags);
        assert.notEqual(mid[tags[0]], before[tags[0]]);
        assert.equal(mid[tags[1]], before[tags[1]], 'b’s tags flushed by a’s commit');
        await b.commitTransaction();
        assert.notEqual((await h.probe.versions(tags))[tags[1]], before[tags[1]]);
      } finally {
        await Promise.all([a.release(), b.release()]);
      }
    });
  });
}
