import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { CacheTagsError, Cached, TagCache, setDefaultTagCache } from '../../lib/index.js';
import { CacheTagsSubscriber, installCacheTags, invalidateEntities } from '../../lib/typeorm/index.js';
import { databaseCases } from './support/databases.js';
import { Photo, entities } from './support/entities.js';
import { useDatabase } from './support/harness.js';
import { TagProbe, nextMillisecond } from './support/probe.js';
import { seed } from './support/seed.js';

for (const db of databaseCases) {
  describe(`TypeORM raw SQL, bypasses and tracked loads on ${db.name}`, { skip: db.skip }, () => {
    const h = useDatabase(db, () => new TagCache());
    const photoTable = () => h.dataSource.getMetadata(Photo).tableName;

    it('raw UPDATE through manager.query invalidates the type-level tag of its table', async () => {
      const s = await seed(h.dataSource);
      await h.probe.expect(() => h.dataSource.query(`UPDATE ${photoTable()} SET title = 'raw' WHERE id = ${s.p1.id}`), {
        changed: ['Photo'],
        unchanged: [`Photo_${s.p1.id}`, 'User'],
      });
    });

    it('raw DELETE from a junction table invalidates both sides’ type tags; inside a transaction at its end', async () => {
      const s = await seed(h.dataSource);
      const junction = h.dataSource.getMetadata(Photo).manyToManyRelations[0].junctionEntityMetadata!.tableName;
      const before = await h.probe.versions(['Photo', 'Tag']);
      await h.dataSource.transaction(async (m) => {
        await m.query(`DELETE FROM ${junction} WHERE ${db.quote('photoId')} = ${s.p1.id}`);
        assert.deepEqual(await h.probe.versions(['Photo', 'Tag']), before);
      });
      const after = await h.probe.versions(['Photo', 'Tag']);
      assert.ok(after.Photo !== before.Photo && after.Tag !== before.Tag);
    });

    it('invalidateEntities: row tags of the given ids (as stored now) and the type tag', async () => {
      const s = await seed(h.dataSource);
      await h.dataSource.query(`UPDATE ${photoTable()} SET ${db.quote('userId')} = ${s.u2.id} WHERE id = ${s.p1.id}`);
      const tags = await h.probe.expect(() => invalidateEntities(h.dataSource, Photo, [s.p1.id]), {
        changed: [`Photo_${s.p1.id}`, `User_${s.u2.id}_photos`, 'Photo'],
        unchanged: [`Photo_${s.p2.id}`],
      });
      assert.ok(tags.includes(`Photo_${s.p1.id}`));
      // A deleted row: pass the entity object you still hold.
      await h.dataSource.query(`DELETE FROM ${photoTable()} WHERE id = ${s.p3.id}`);
      await h.probe.expect(() => invalidateEntities(h.dataSource, Photo, [s.p3]), { changed: [`Photo_${s.p3.id}`, `User_${s.u1.id}_photos`] });
    });

    it('listeners switched off bypass invalidation, as documented', async () => {
      const s = await seed(h.dataSource);
      await h.probe.expect(() => h.dataSource.getRepository(Photo).save({ id: s.p1.id, title: 'quiet' }, { listeners: false }), {
        changed: [],
        unchanged: [`Photo_${s.p1.id}`, 'Photo'],
      });
      await h.probe.expect(() => h.dataSource.createQueryBuilder().update(Photo).set({ title: 'quiet' }).where('id = :id', { id: s.p2.id }).callListeners(false).execute(), {
        changed: [],
        unchanged: [`Photo_${s.p2.id}`, 'Photo'],
      });
    });

    it('tracked loads: a @Cached method that loads a photo depends on its tags without declaring them', async () => {
      const s = await seed(h.dataSource);
      const repo = h.dataSource.getRepository(Photo);
      // Learned tags are trusted only with versions older than the computation (clock-skew margin 0
      // here): the first computation mints them and is not stored, the next one after a clock tick is.
      const cache = new TagCache({ clockSkewMs: 0 });
      installCacheTags(h.dataSource, { cache });
      let runs = 0;
      class Gallery {
        @Cached({ cache, key: (id: number) => `${db.name}:title:${id}` })
        async title(id: number) {
          runs++;
          return (await repo.findOneOrFail({ where: { id }, relations: { user: true } })).title;
        }
      }
      const gallery = new Gallery();
      const stored: string[][] = [];
      cache.on('set', (e) => stored.push(e.tags));
      try {
        assert.equal(await gallery.title(s.p1.id), 'beach');
        nextMillisecond();
        assert.equal(await gallery.title(s.p1.id), 'beach');
        assert.deepEqual(stored.at(-1)?.sort(), [`Photo_${s.p1.id}`, `User_${s.u1.id}`, `User_${s.u1.id}_photos`].sort());
        const runsBefore = runs;
        assert.equal(await gallery.title(s.p1.id), 'beach');
        assert.equal(runs, runsBefore, 'the stored entry was not served');
        await repo.update({ id: s.p1.id }, { title: 'dune' });
        assert.equal(await gallery.title(s.p1.id), 'dune');
        // A partial entity (no `user` loaded, so no FK) is not tracked: its tags would be wrong.
        stored.length = 0;
        class Partial {
          @Cached({ cache, key: (id: number) => `${db.name}:partial:${id}` })
          async title(id: number) {
            return (await repo.findOneByOrFail({ id })).title;
          }
        }
        nextMillisecond();
        await new Partial().title(s.p2.id);
        assert.deepEqual(stored, [[]]);
      } finally {
        installCacheTags(h.dataSource, { cache: h.cache });
      }
    });

    it('installCacheTags is idempotent: one subscriber, one invalidation per write', async () => {
      const s = await seed(h.dataSource);
      const again = installCacheTags(h.dataSource, { cache: h.cache });
      assert.equal(h.dataSource.subscribers.filter((x) => x instanceof CacheTagsSubscriber).length, 1);
      assert.equal(again.cache, h.cache);
      const events: unknown[] = [];
      const off = h.cache.on('invalidate', (e) => events.push(e));
      await h.dataSource.getRepository(Photo).update({ id: s.p1.id }, { title: 'once' });
      off();
      assert.equal(events.length, 1);
    });
  });

  describe(`TypeORM set-up on ${db.name}`, { skip: db.skip }, () => {
    it('a DataSource without cache-tags: writes work and run no extra SELECT', async () => {
      const { dataSource, drop } = await db.open();
      try {
        const s = await seed(dataSource);
        const statements: string[] = [];
        const spy = { afterQuery: (e: { query: string }) => void statements.push(e.query) };
        dataSource.subscribers.push(spy);
        await dataSource.getRepository(Photo).update({ id: s.p1.id }, { title: 'plain' });
        assert.deepEqual(statements.map((q) => q.trim().split(/\s+/)[0].toUpperCase()), ['UPDATE']);
      } finally {
        await drop();
      }
    });

    it('listing CacheTagsSubscriber in the DataSource options uses the default cache', async () => {
      const cache = new TagCache();
      setDefaultTagCache(cache);
      const { dataSource, drop } = await db.open({ subscribers: [CacheTagsSubscriber] });
      try {
        const s = await seed(dataSource);
        const probe = await TagProbe.of(cache);
        await probe.expect(() => dataSource.getRepository(Photo).delete({ id: s.p2.id }), { changed: [`Photo_${s.p2.id}`, `User_${s.u2.id}_photos`] });
      } finally {
        await drop();
      }
    });

    it('installCacheTags before initialize() fails with a message that says what to do', () => {
      const dataSource = new DataSource({ type: 'better-sqlite3', database: ':memory:', entities });
      assert.throws(
        () => installCacheTags(dataSource, {}),
        (e: unknown) => e instanceof CacheTagsError && e.code === 'E_INVALID_OPTION' && /initialize\(\)/.test(e.message),
      );
      assert.throws(() => installCacheTags({} as DataSource), /first argument must be a TypeORM DataSource/);
    });
  });
}
