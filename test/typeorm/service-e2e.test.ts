import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { setDefaultTagCache, type TagCache } from '../../lib/index.js';
import { installCacheTags } from '../../lib/typeorm/index.js';
import { storeCases } from '../support/stores.js';
import { databaseCases } from './support/databases.js';
import { Comment, Photo, Tag, User } from './support/entities.js';
import { seed, type Seed } from './support/seed.js';
import { PhotoQueries, PhotoService } from './support/service.js';
import { nextMillisecond } from './support/probe.js';

type Read = keyof PhotoQueries;
interface Scenario {
  name: string;
  /** The cached reads the write must refresh: method and argument. */
  reads: (s: Seed) => [Read, number?][];
  write: (ds: DataSource, s: Seed) => Promise<unknown>;
  /** Runs before the reads are cached. */
  setup?: (ds: DataSource, s: Seed) => Promise<unknown>;
}

const photos = (ds: DataSource) => ds.getRepository(Photo);

const scenarios: Scenario[] = [
  { name: 'save (insert)', reads: (s) => [['photosOfUser', s.u1.id], ['countPhotos']], write: (ds, s) => photos(ds).save({ title: 'new', slug: `new${s.p1.id}`, user: s.u1 }) },
  {
    name: 'save (update, moved to another user)',
    reads: (s) => [['photosOfUser', s.u1.id], ['photosOfUser', s.u2.id], ['photo', s.p1.id]],
    write: async (ds, s) => photos(ds).save(Object.assign(await photos(ds).findOneByOrFail({ id: s.p1.id }), { user: s.u2 })),
  },
  { name: 'save (plain partial)', reads: (s) => [['photo', s.p1.id], ['photosOfUser', s.u1.id]], write: (ds, s) => photos(ds).save({ id: s.p1.id, title: 'partial' }) },
  { name: 'insert', reads: (s) => [['countPhotos'], ['photosOfUser', s.u2.id]], write: (ds, s) => photos(ds).insert({ title: 'ins', slug: `ins${s.p1.id}`, user: { id: s.u2.id } }) },
  {
    name: 'remove',
    reads: (s) => [['countPhotos'], ['photosOfTag', s.t1.id], ['commentsOf', s.p1.id], ['photo', s.p1.id]],
    write: async (ds, s) => photos(ds).remove(await photos(ds).findOneByOrFail({ id: s.p1.id })),
  },
  { name: 'softRemove', reads: (s) => [['photosOfUser', s.u1.id], ['photosOfTag', s.t2.id]], write: async (ds, s) => photos(ds).softRemove(await photos(ds).findOneByOrFail({ id: s.p1.id })) },
  {
    name: 'recover',
    reads: (s) => [['photosOfUser', s.u1.id], ['countPhotos']],
    setup: (ds, s) => photos(ds).softDelete({ id: s.p3.id }),
    write: async (ds, s) => photos(ds).recover(await photos(ds).findOneOrFail({ where: { id: s.p3.id }, withDeleted: true })),
  },
  { name: 'upsert', reads: (s) => [['photosOfUser', s.u2.id], ['photosOfUser', s.u1.id], ['photo', s.p1.id]], write: (ds, s) => photos(ds).upsert({ slug: s.p1.slug, title: 'ups', user: { id: s.u2.id } }, ['slug']) },
  { name: 'increment', reads: (s) => [['photo', s.p1.id]], write: (ds, s) => photos(ds).increment({ id: s.p1.id }, 'views', 5) },
  { name: 'decrement', reads: (s) => [['photo', s.p1.id]], write: (ds, s) => photos(ds).decrement({ id: s.p1.id }, 'views', 5) },
  { name: 'update(criteria)', reads: (s) => [['photosOfUser', s.u1.id], ['photosOfUser', s.u2.id], ['photo', s.p3.id]], write: (ds, s) => photos(ds).update({ user: { id: s.u1.id } }, { user: { id: s.u2.id } }) },
  { name: 'delete(criteria)', reads: (s) => [['photosOfTag', s.t1.id], ['commentsOf', s.p1.id], ['countPhotos']], write: (ds, s) => photos(ds).delete({ id: s.p1.id }) },
  { name: 'softDelete', reads: (s) => [['countPhotos'], ['photosOfUser', s.u2.id]], write: (ds, s) => photos(ds).softDelete({ id: s.p2.id }) },
  {
    name: 'restore',
    reads: (s) => [['countPhotos'], ['photo', s.p2.id]],
    setup: (ds, s) => photos(ds).softDelete({ id: s.p2.id }),
    write: (ds, s) => photos(ds).restore({ id: s.p2.id }),
  },
  { name: 'qb update', reads: (s) => [['photo', s.p2.id], ['photosOfUser', s.u2.id]], write: (ds, s) => ds.createQueryBuilder().update(Photo).set({ title: 'qb' }).where('id = :id', { id: s.p2.id }).execute() },
  { name: 'qb delete', reads: (s) => [['photosOfUser', s.u1.id], ['countPhotos']], write: (ds, s) => ds.createQueryBuilder().delete().from(Photo).where('id = :id', { id: s.p3.id }).execute() },
  { name: 'qb softDelete', reads: (s) => [['photosOfTag', s.t2.id]], write: (ds, s) => photos(ds).createQueryBuilder().softDelete().where('id = :id', { id: s.p2.id }).execute() },
  {
    name: 'qb restore',
    reads: (s) => [['photosOfTag', s.t2.id], ['countPhotos']],
    setup: (ds, s) => photos(ds).softDelete({ id: s.p2.id }),
    write: (ds, s) => photos(ds).createQueryBuilder().restore().where('id = :id', { id: s.p2.id }).execute(),
  },
  {
    name: 'many-to-many through save',
    reads: (s) => [['photosOfTag', s.t1.id], ['photosOfTag', s.t3.id], ['photo', s.p1.id]],
    write: async (ds, s) => photos(ds).save(Object.assign(await photos(ds).findOneOrFail({ where: { id: s.p1.id }, relations: { tags: true } }), { tags: [s.t3] })),
  },
  {
    name: 'many-to-many through save of the inverse side',
    reads: (s) => [['photosOfTag', s.t3.id], ['photo', s.p3.id]],
    write: async (ds, s) => ds.getRepository(Tag).save(Object.assign(await ds.getRepository(Tag).findOneByOrFail({ id: s.t3.id }), { photos: [s.p3] })),
  },
  { name: 'relation add', reads: (s) => [['photosOfTag', s.t3.id], ['photo', s.p2.id]], write: (ds, s) => ds.createQueryBuilder().relation(Photo, 'tags').of(s.p2).add(s.t3) },
  { name: 'relation remove', reads: (s) => [['photosOfTag', s.t2.id], ['photo', s.p2.id]], write: (ds, s) => ds.createQueryBuilder().relation(Photo, 'tags').of(s.p2).remove(s.t2) },
  { name: 'relation addAndRemove', reads: (s) => [['photosOfTag', s.t1.id], ['photosOfTag', s.t3.id]], write: (ds, s) => ds.createQueryBuilder().relation(Photo, 'tags').of(s.p1).addAndRemove([s.t3], [s.t1]) },
  { name: 'relation set (many-to-one)', reads: (s) => [['photosOfUser', s.u1.id], ['photosOfUser', s.u2.id]], write: (ds, s) => ds.createQueryBuilder().relation(Photo, 'user').of(s.p3).set(s.u2) },
  {
    name: 'orphaned comment deleted',
    reads: (s) => [['commentsOf', s.p1.id]],
    write: async (ds, s) => photos(ds).save(Object.assign(await photos(ds).findOneOrFail({ where: { id: s.p1.id }, relations: { comments: true } }), { comments: [] })),
  },
  { name: 'comment moved by relation add (one-to-many)', reads: (s) => [['commentsOf', s.p1.id], ['commentsOf', s.p2.id]], write: (ds, s) => ds.createQueryBuilder().relation(Photo, 'comments').of(s.p2).add(s.c2) },
  { name: 'user deleted: database cascades', reads: (s) => [['photosOfTag', s.t1.id], ['commentsOf', s.p1.id], ['photo', s.p1.id], ['countPhotos']], write: (ds, s) => ds.getRepository(User).delete({ id: s.u1.id }) },
  {
    name: 'transaction with several writes',
    reads: (s) => [['photo', s.p1.id], ['commentsOf', s.p1.id], ['photosOfUser', s.u2.id]],
    write: (ds, s) =>
      ds.transaction(async (m) => {
        await m.getRepository(Photo).update({ id: s.p1.id }, { title: 'tx', user: { id: s.u2.id } });
        await m.transaction((inner) => inner.getRepository(Comment).delete({ id: s.c1.id }));
      }),
  },
  { name: 'raw SQL (type-level tag)', reads: () => [['countPhotos']], write: (ds, s) => ds.query(`DELETE FROM ${ds.getMetadata(Photo).tableName} WHERE id = ${s.p3.id}`) },
];

for (const db of databaseCases) {
  for (const store of storeCases) {
    describe(`cached service over TypeORM: ${db.name} + ${store.name} store`, { skip: db.skip || store.skip }, () => {
      let dataSource: DataSource;
      let drop: () => Promise<void>;
      let cache: TagCache;
      before(async () => {
        ({ dataSource, drop } = await db.open());
        // One process: no clock skew to allow for, so entries whose loads are tracked get stored
        // once the rows' last write is a millisecond old (see nextMillisecond).
        cache = store.make({ clockSkewMs: 0 });
        setDefaultTagCache(cache);
        installCacheTags(dataSource, { cache });
      });
      after(async () => {
        await drop?.();
        await cache?.close();
      });

      for (const scenario of scenarios) {
        it(`${scenario.name}: the read after the write returns the new data`, async () => {
          const s = await seed(dataSource);
          await scenario.setup?.(dataSource, s);
          nextMillisecond();
          const queries = new PhotoQueries(dataSource);
          const service = new PhotoService(queries);
          const reads = scenario.reads(s);
          const call = (target: PhotoQueries | PhotoService, [method, arg]: [Read, number?]) => (target[method] as (a?: number) => Promise<unknown>).call(target, arg);
          const cached: unknown[] = [];
          for (const read of reads) cached.push(await call(service, read));
          const runs = service.runs;
          for (const read of reads) await call(service, read);
          assert.equal(service.runs, runs, 'the reads were not cached before the write');
          await scenario.write(dataSource, s);
          const fresh: unknown[] = [];
          for (const read of reads) {
            fresh.push(await call(queries, read));
            assert.deepEqual(await call(service, read), fresh.at(-1), `${read[0]}(${read[1] ?? ''}) served stale data`);
          }
          assert.ok(!isDeepStrictEqual(fresh, cached), 'the write changed none of the reads: the scenario proves nothing');
        });
      }
    });
  }
}
