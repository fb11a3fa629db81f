import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { Cached } from '../../../lib/index.js';
import { Comment, Photo, Tag, User } from './model.js';
import { clearDatabase } from './versions.js';

/** Seeded ids: users 1, 2; tags 1 (red), 2 (blue); photos 1 (user 1, red), 2 (user 1, red+blue), 3 (user 2); comments 1, 2 on photo 1, 3 on photo 2. */
export async function seed(orm: MikroORM): Promise<void> {
  await clearDatabase(orm);
  const em = orm.em.fork() as SqlEntityManager;
  const [u1, u2] = [em.create(User, { id: 1, name: 'Ann' }), em.create(User, { id: 2, name: 'Bob' })];
  const [red, blue] = [em.create(Tag, { id: 1, name: 'red' }), em.create(Tag, { id: 2, name: 'blue' })];
  const p1 = em.create(Photo, { id: 1, title: 'beach', user: u1, tags: [red] });
  const p2 = em.create(Photo, { id: 2, title: 'forest', user: u1, tags: [red, blue] });
  em.create(Photo, { id: 3, title: 'city', user: u2 });
  em.create(Comment, { id: 1, text: 'nice', photo: p1 });
  em.create(Comment, { id: 2, text: 'wow', photo: p1 });
  em.create(Comment, { id: 3, text: 'green', photo: p2 });
  await em.flush();
  if (orm.config.get('driver')?.name === 'PostgreSqlDriver') {
    // Explicit ids leave the sequences behind; inserts without an id must not collide with the seed.
    for (const table of ['user', 'tag', 'photo', 'comment']) await em.execute(`select setval(pg_get_serial_sequence('"${table}"', 'id'), 100)`);
  }
}

/** Reads straight from the database, each through a fresh fork (inside a transaction: its own). */
export class PhotoSource {
  calls = 0;
  constructor(private readonly orm: MikroORM) {}

  private em() {
    this.calls++;
    return this.orm.em.fork({ keepTransactionContext: true });
  }

  async photo(id: number) {
    const p = await this.em().findOne(Photo, id, { populate: ['tags', 'comments'] });
    return p && { id: p.id, title: p.title, views: p.views, user: p.user.id, tags: p.tags.getItems().map((t) => t.name).sort(), comments: p.comments.getItems().map((c) => c.text).sort() };
  }

  async photosOfUser(userId: number) {
    return (await this.em().find(Photo, { user: userId }, { orderBy: { id: 'asc' } })).map((p) => p.title);
  }

  async photosOfTag(tagId: number) {
    return (await this.em().find(Photo, { tags: tagId }, { orderBy: { id: 'asc' } })).map((p) => p.title);
  }

  async commentsOfPhoto(photoId: number) {
    return (await this.em().find(Comment, { photo: photoId }, { orderBy: { id: 'asc' } })).map((c) => c.text);
  }

  async countPhotos() {
    return this.em().count(Photo);
  }

  async countComments() {
    return this.em().count(Comment);
  }
}

/** The service an application writes: the same reads, cached with tags (on the default cache). */
export class PhotoService {
  constructor(readonly source: PhotoSource) {}

  @Cached({ tags: (id: number) => [`Photo_${id}`, `Photo_${id}_comments`] })
  photo(id: number) {
    return this.source.photo(id);
  }

  @Cached({ tags: (userId: number) => [`User_${userId}_photos`] })
  photosOfUser(userId: number) {
    return this.source.photosOfUser(userId);
  }

  @Cached({ tags: (tagId: number) => [`Tag_${tagId}`] })
  photosOfTag(tagId: number) {
    return this.source.photosOfTag(tagId);
  }

  @Cached({ tags: (photoId: number) => [`Photo_${photoId}_comments`] })
  commentsOfPhoto(photoId: number) {
    return this.source.commentsOfPhoto(photoId);
  }

  @Cached(['Photo'])
  countPhotos() {
    return this.source.countPhotos();
  }

  @Cached(['Comment'])
  countComments() {
    return this.source.countComments();
  }
}

export type Read = (svc: PhotoService) => Promise<unknown>;
