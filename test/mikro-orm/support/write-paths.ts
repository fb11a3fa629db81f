import { raw, type MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { Photo, Tag, User } from './model.js';
import type { Read } from './service.js';
import { invalidateEntities } from '../../../lib/mikro-orm/index.js';
import { mikroOrmMajor } from '../../../lib/mikro-orm/sql-package.js';

/** One row of the write-path table: a write, and the cached reads it must make stale. */
export interface WritePath {
  path: string;
  reads: Read[];
  write(orm: MikroORM, em: SqlEntityManager): Promise<void>;
}

const photosOfUser1: Read = (s) => s.photosOfUser(1);
const photosOfUser2: Read = (s) => s.photosOfUser(2);
const photo1: Read = (s) => s.photo(1);
const photosOfRed: Read = (s) => s.photosOfTag(1);
const photosOfBlue: Read = (s) => s.photosOfTag(2);
const count: Read = (s) => s.countPhotos();
const rawInsert = `insert into photo (title, views, user_id) values ('raw', 0, 2)`;

export const writePaths: WritePath[] = [
  { path: 'persist + flush: create', reads: [photosOfUser2, count], write: async (_, em) => em.persist(em.create(Photo, { title: 'new', user: 2 })).flush() },
  {
    path: 'flush: update a column',
    reads: [photo1],
    write: async (_, em) => {
      (await em.findOneOrFail(Photo, 1)).title = 'sunset';
      await em.flush();
    },
  },
  {
    path: 'flush: update a many-to-one (old and new owner)',
    reads: [photosOfUser1, photosOfUser2],
    write: async (_, em) => {
      (await em.findOneOrFail(Photo, 1)).user = em.getReference(User, 2);
      await em.flush();
    },
  },
  { path: 'em.remove + flush', reads: [photosOfUser1, count, photo1], write: async (_, em) => em.remove(await em.findOneOrFail(Photo, 1)).flush() },
  { path: 'em.upsert (moves a photo to another user)', reads: [photosOfUser1, photosOfUser2, photo1], write: async (_, em) => void (await em.upsert(Photo, { id: 1, title: 'beach', user: 2 })) },
  {
    path: 'em.upsertMany',
    reads: [photosOfUser1, photosOfUser2, count],
    write: async (_, em) => void (await em.upsertMany(Photo, [{ id: 2, title: 'forest', user: 2 }, { id: 50, title: 'lake', user: 2 }])),
  },
  { path: 'em.insert', reads: [photosOfUser2, count], write: async (_, em) => void (await em.insert(Photo, { title: 'new', user: 2 })) },
  { path: 'em.insert (entity)', reads: [photosOfUser2, count], write: async (_, em) => void (await em.insert(em.create(Photo, { title: 'new', user: em.getReference(User, 2) }))) },
  { path: 'em.insertMany', reads: [photosOfUser1, photosOfUser2], write: async (_, em) => void (await em.insertMany(Photo, [{ title: 'a', user: 1 }, { title: 'b', user: 2 }])) },
  { path: 'em.nativeUpdate', reads: [photosOfUser1, photosOfUser2], write: async (_, em) => void (await em.nativeUpdate(Photo, { user: 1 }, { user: 2 })) },
  { path: 'em.nativeDelete (comments cascade in the database)', reads: [photosOfUser1, (s) => s.commentsOfPhoto(1), photosOfRed], write: async (_, em) => void (await em.nativeDelete(Photo, { id: 1 })) },
  { path: 'qb.update()', reads: [photosOfUser1, photosOfUser2], write: async (_, em) => void (await em.createQueryBuilder(Photo).update({ user: 2 }).where({ title: 'beach' }).execute()) },
  { path: 'qb.delete()', reads: [photosOfUser1, (s) => s.commentsOfPhoto(1)], write: async (_, em) => void (await em.createQueryBuilder(Photo).delete().where({ id: { $in: [1] } }).execute()) },
  { path: 'qb.insert()', reads: [photosOfUser2, count], write: async (_, em) => void (await em.createQueryBuilder(Photo).insert({ title: 'qb', user: 2 }).execute()) },
  {
    path: 'many-to-many add (owner side)',
    reads: [photosOfRed],
    write: async (_, em) => {
      (await em.findOneOrFail(Photo, 3)).tags.add(em.getReference(Tag, 1));
      await em.flush();
    },
  },
  {
    path: 'many-to-many remove (owner side, loaded)',
    reads: [photosOfRed, photo1],
    write: async (_, em) => {
      const p = await em.findOneOrFail(Photo, 1, { populate: ['tags'] });
      p.tags.remove(em.getReference(Tag, 1));
      await em.flush();
    },
  },
  {
    path: 'many-to-many set() on an uninitialized collection (removed side read first)',
    reads: [photosOfBlue, photosOfRed],
    write: async (_, em) => {
      (await em.findOneOrFail(Photo, 2)).tags.set([em.getReference(Tag, 1)]);
      await em.flush();
    },
  },
  {
    path: 'many-to-many removeAll',
    reads: [photosOfRed, photosOfBlue],
    write: async (_, em) => {
      (await em.findOneOrFail(Photo, 2, { populate: ['tags'] })).tags.removeAll();
      await em.flush();
    },
  },
  {
    path: 'many-to-many add (inverse side)',
    reads: [photosOfBlue, photo1],
    write: async (_, em) => {
      const blue = await em.findOneOrFail(Tag, 2, { populate: ['photos'] });
      blue.photos.add(await em.findOneOrFail(Photo, 1, { populate: ['tags'] }));
      await em.flush();
    },
  },
  {
    path: 'many-to-many remove (inverse side)',
    reads: [photosOfRed, photo1],
    write: async (_, em) => {
      const red = await em.findOneOrFail(Tag, 1, { populate: ['photos'] });
      red.photos.remove(await em.findOneOrFail(Photo, 1, { populate: ['tags'] }));
      await em.flush();
    },
  },
  {
    path: 'one-to-many orphan removal',
    reads: [(s) => s.commentsOfPhoto(1), (s) => s.countComments()],
    write: async (_, em) => {
      const p = await em.findOneOrFail(Photo, 1, { populate: ['comments'] });
      p.comments.remove(p.comments.getItems()[0]);
      await em.flush();
    },
  },
  {
    path: 'em.remove of a parent whose children are not loaded (ON DELETE CASCADE)',
    reads: [(s) => s.commentsOfPhoto(1), (s) => s.countComments(), photosOfRed],
    write: async (_, em) => em.remove(await em.findOneOrFail(Photo, 1)).flush(),
  },
  {
    path: 'ON DELETE CASCADE two levels down (user → photos → comments)',
    reads: [photosOfUser1, (s) => s.commentsOfPhoto(1), photosOfBlue],
    write: async (_, em) => em.remove(await em.findOneOrFail(User, 1)).flush(),
  },
  {
    path: 'em.transactional (commit)',
    reads: [photosOfUser1, photosOfUser2],
    write: (_, em) => em.transactional(async (tem) => {
      (await tem.findOneOrFail(Photo, 1)).user = tem.getReference(User, 2);
      await tem.flush();
      await tem.nativeUpdate(Photo, { id: 2 }, { user: 2 });
    }),
  },
  {
    path: 'begin / commit',
    reads: [photosOfUser1, count],
    write: async (_, em) => {
      await em.begin();
      em.remove(await em.findOneOrFail(Photo, 1));
      await em.flush();
      await em.commit();
    },
  },
  {
    path: 'em.fork() of a fork',
    reads: [photosOfUser1],
    write: async (_, em) => void (await em.fork().fork().nativeUpdate(Photo, { id: 1 }, { user: 2 })),
  },
  { path: 'em.execute raw SQL (type-level tag of the table)', reads: [count], write: async (_, em) => void (await em.execute(rawInsert)) },
  // 6's em.execute takes knex queries, 7's takes raw() fragments (knex is gone).
  mikroOrmMajor >= 7
    ? { path: 'em.execute of a raw() fragment', reads: [count], write: async (_, em) => void (await em.execute(raw<object, string>(rawInsert))) }
    : { path: 'em.execute of a knex raw', reads: [count], write: async (_, em) => void (await em.execute(em.getKnex().raw(rawInsert))) },
  {
    path: 'raw SQL + invalidateEntities for the rows it wrote',
    reads: [photosOfBlue],
    write: async (_, em) => {
      await em.getConnection().execute('delete from photo_tags where tag_id = 2');
      await invalidateEntities(em, Tag, [2]);
    },
  },
];

