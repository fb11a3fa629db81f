import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { storeCases } from '../support/stores.js';
import { Comment, Photo, User } from './support/model.js';
import { databaseCases } from './support/orm.js';
import { ormSuite } from './support/suite.js';
import { writePaths } from './support/write-paths.js';

/*
 * Every path of the write-path matrix against reads cached by the query cache alone (`cache: true`,
 * no tag written by hand): after the write, each of them returns what the database holds, and the
 * write changed at least one of them. SQL statements are counted to show the reads were hits before.
 */

type QueryRead = (em: SqlEntityManager) => Promise<unknown>;

const photos = (list: Photo[]) => list.map((p) => ({ id: p.id, title: p.title, user: p.user.id }));

const reads: Record<string, QueryRead> = {
  'photos of user 1 with tags and comments': async (em) => (await em.find(Photo, { user: 1 }, { orderBy: { id: 'asc' }, populate: ['tags', 'comments'], cache: true }))
    .map((p) => [p.id, p.title, p.tags.getItems().map((t) => t.name).sort(), p.comments.getItems().map((c) => c.text).sort()]),
  'photos of user 2': async (em) => photos(await em.find(Photo, { user: 2 }, { orderBy: { id: 'asc' }, cache: true })),
  'photos tagged red': async (em) => photos(await em.find(Photo, { tags: 1 }, { orderBy: { id: 'asc' }, cache: true })),
  'photos tagged blue': async (em) => photos(await em.find(Photo, { tags: { name: 'blue' } }, { orderBy: { id: 'asc' }, cache: true })),
  'comments of photo 1': async (em) => (await em.find(Comment, { photo: 1 }, { orderBy: { id: 'asc' }, cache: true })).map((c) => c.text),
  'photo 1 by key': async (em) => {
    const p = await em.findOne(Photo, 1, { populate: ['tags'], cache: true });
    return p && [p.title, p.user.id, p.tags.getItems().map((t) => t.name).sort()];
  },
  'count of photos': (em) => em.count(Photo, {}, { cache: true }),
  "photos of users named Ann": async (em) => photos(await em.find(Photo, { user: { name: 'Ann' } }, { orderBy: { id: 'asc' }, cache: true })),
  'users with their photos': async (em) => (await em.find(User, {}, { orderBy: { id: 'asc' }, populate: ['photos'], cache: true })).map((u) => [u.id, u.photos.getItems().map((p) => p.id).sort()]),
};

for (const db of databaseCases) {
  describe(`MikroORM query cache over the write-path matrix, ${db.name}`, { skip: db.skip }, () => {
    const statements: string[] = [];
    const suite = ormSuite(db, storeCases[0], { orm: { onQuery: (sql: string) => (statements.push(sql), sql) } });

    for (const row of writePaths) {
      it(`${row.path}: no cached query is stale after it`, async () => {
        const fork = () => suite.orm.em.fork() as SqlEntityManager;
        const before: Record<string, unknown> = {};
        for (const [name, read] of Object.entries(reads)) before[name] = await read(fork());
        const counted = statements.length;
        for (const read of Object.values(reads)) await read(fork());
        assert.equal(statements.length, counted, 'every read is a hit before the write');

        await row.write(suite.orm, fork());

        let changed = false;
        for (const [name, read] of Object.entries(reads)) {
          const now = await read(fork());
          // Inside a transaction the query cache is bypassed: the database's answer.
          const fresh = await fork().transactional((em) => read(em));
          assert.deepEqual(now, fresh, `${name} after the write is not stale`);
          if (JSON.stringify(fresh) !== JSON.stringify(before[name])) changed = true;
        }
        assert.ok(changed, 'the write changed what at least one read returns');
      });
    }
  });
}
