import { describe, it } from 'node:test';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { cachedQuery, invalidateEntities } from '../../lib/mikro-orm/index.js';
import { storeCases } from '../support/stores.js';
import { databaseCases } from './support/orm.js';
import { Author, Post, Reply, Topic } from './support/query-model.js';
import { querySuite, type QueryRead } from './support/query-suite.js';

/*
 * The invalidation rules of the query cache (docs/query-cache.md), each with a write that must
 * invalidate a cached query and one that must not, on SQLite, PostgreSQL and MariaDB. Hits and
 * misses are told by the SQL the next call runs; every next call must return what the database
 * holds.
 */

const rows = (posts: Post[]) => posts.map((p) => ({ id: p.id, title: p.title, status: p.status, author: p.author.id }));
const byId = { orderBy: { id: 'asc' } } as const;

const memory = storeCases[0];

for (const db of databaseCases) {
  describe(`MikroORM query cache rules, ${db.name}`, { skip: db.skip }, () => {
    const suite = querySuite(db, memory);
    const check = (read: QueryRead, write: (em: SqlEntityManager) => Promise<unknown>, expect: 'hit' | 'miss') => suite.check(read, write, expect);
    const newPost = (data: Partial<Record<'author' | 'status' | 'reviewer', number | null>>) => async (em: SqlEntityManager) => {
      em.create(Post, { title: 'new', author: 1, ...data } as never);
      await em.flush();
    };
    const update = <T extends object>(entity: new () => T, id: number, change: Partial<T> | ((em: SqlEntityManager) => Partial<T>)) => async (em: SqlEntityManager) => {
      Object.assign(await em.findOneOrFail(entity, id as never), typeof change === 'function' ? change(em) : change);
      await em.flush();
    };
    const authorRef = (id: number) => (em: SqlEntityManager) => ({ author: em.getReference(Author, id) });

    describe('rule 1: a returned or loaded row changes', () => {
      const read: QueryRead = async (em) => rows(await em.find(Post, { status: 2 }, { ...byId, cache: true }));
      it('an update of a returned row invalidates', () => check(read, update(Post, 2, { title: 'woods' }), 'miss'));
      it('a delete of a returned row invalidates', () => check(read, async (em) => em.nativeDelete(Post, { id: 3 }), 'miss'));
      it('an update of a row it did not return (nor could) does not', () => check(read, update(Post, 4, { title: 'cove' }), 'hit'));

      const populated: QueryRead = async (em) => (await em.find(Post, { status: 2 }, { ...byId, populate: ['author'], cache: true })).map((p) => [p.id, p.author.username]);
      it('a populated row that changes invalidates', () => check(populated, update(Author, 2, { username: 'robert' }), 'miss'));
      it('a row of the populated entity it did not load does not', () => check(populated, update(Author, 3, { username: 'dave' }), 'hit'));
    });

    describe('rule 2: equality conditions, old and new values', () => {
      const read: QueryRead = async (em) => rows(await em.find(Post, { author: 1, status: 2 }, { ...byId, cache: true }));
      it('a new row matching the condition invalidates', () => check(read, newPost({ author: 1, status: 2 }), 'miss'));
      it('a new row of another author with another status does not', () => check(read, newPost({ author: 3, status: 3 }), 'hit'));
      it('an update moving a row into the condition invalidates', () => check(read, update(Post, 4, (em) => ({ ...authorRef(1)(em), status: 2 })), 'miss'));
      it('an update moving a row out of it invalidates', () => check(read, update(Post, 2, authorRef(3)), 'miss'));
      it('a bulk update by criteria that matches invalidates', () => check(read, async (em) => em.nativeUpdate(Post, { id: 1 }, { status: 2 }), 'miss'));
    });

    describe('rule 3: invalidateOn narrows the fields that count', () => {
      const read: QueryRead = async (em) => rows(await cachedQuery(em, 'find', Post, { author: 1, status: 2 }, byId, { invalidateOn: ['status'] }));
      it('a new row with the watched value invalidates', () => check(read, newPost({ author: 3, status: 2 }), 'miss'));
      it('a new row matching only on the other field does not', () => check(read, newPost({ author: 1, status: 1 }), 'hit'));
      const option: QueryRead = async (em) => rows(await em.find(Post, { author: 1, status: 2 }, { ...byId, cache: { invalidateOn: ['author'] } as never }));
      it("the cache option's object form says the same", () => check(option, newPost({ author: 2, status: 2 }), 'hit'));
    });

    describe('rule 4: $in and null', () => {
      const read: QueryRead = async (em) => rows(await em.find(Post, { status: { $in: [1, 3] } }, { ...byId, cache: true }));
      it('a new row with one of the values invalidates', () => check(read, newPost({ status: 3 }), 'miss'));
      it('a new row with none of them does not', () => check(read, newPost({ status: 2 }), 'hit'));
      const unreviewed: QueryRead = async (em) => rows(await em.find(Post, { reviewer: null }, { ...byId, cache: true }));
      it('a new row with NULL invalidates a null condition', () => check(unreviewed, newPost({}), 'miss'));
      it('a new row with a value does not', () => check(unreviewed, newPost({ reviewer: 3 }), 'hit'));
    });

    describe('rule 5: conditions through relations', () => {
      const read: QueryRead = async (em) => rows(await em.find(Post, { author: { username: 'david' } }, { ...byId, cache: true }));
      it('a change of the related row invalidates', () => check(read, update(Author, 3, { username: 'dave' }), 'miss'));
      it('a new row joining through the relation invalidates', () => check(read, newPost({ author: 3 }), 'miss'));
      it('a change of another related row does not', () => check(read, update(Author, 2, { username: 'robert' }), 'hit'));
      const topics: QueryRead = async (em) => rows(await em.find(Post, { topics: { name: 'red' } }, { ...byId, cache: true }));
      it('a many-to-many link to the related row invalidates', () => check(topics, linkTopic(3, 1), 'miss'));
      it('a link to another related row does not', () => check(topics, linkTopic(4, 2), 'hit'));
    });

    describe('rule 6: what the matcher does not understand falls back to the type-level tag', () => {
      const read: QueryRead = async (em) => rows(await em.find(Post, { title: { $like: 'b%' } }, { ...byId, cache: true }));
      it('any write of the entity invalidates', () => check(read, newPost({ author: 2 }), 'miss'));
      it('a write of another entity does not', () => check(read, update(Author, 2, { username: 'robert' }), 'hit'));
      const or: QueryRead = async (em) => rows(await em.find(Post, { $or: [{ status: 3 }, { title: 'city' }] }, { ...byId, cache: true }));
      it('an OR with one branch not understood falls back too', () => check(or, update(Post, 4, { title: 'city' }), 'miss'));
      const not: QueryRead = async (em) => rows(await em.find(Post, { $not: { author: { username: 'ann' } } }, { ...byId, cache: true }));
      it('a relation inside what is not understood is still watched: a change of its rows invalidates', () => check(not, update(Author, 2, { username: 'ann2' }), 'miss'));
      const sorted: QueryRead = async (em) => rows(await em.find(Post, { status: 2 }, { orderBy: { author: { username: 'asc' } }, limit: 1, cache: true }));
      it('a relation the query sorts by is watched: a change that reorders the window invalidates', () => check(sorted, update(Author, 1, { username: 'zed' }), 'miss'));
      it('a query that sorts by a relation ignores writes of unrelated entities', () => check(sorted, update(Topic, 1, { label: 'warm' }), 'hit'));
    });

    describe('rule 7: count and findAndCount', () => {
      const read: QueryRead = (em) => em.count(Post, { author: 1 }, { cache: true });
      it('a matching insert invalidates', () => check(read, newPost({ author: 1 }), 'miss'));
      it('an insert that does not match does not', () => check(read, newPost({ author: 2 }), 'hit'));
      it('a matching delete invalidates', () => check(read, async (em) => em.remove(em.getReference(Post, 1)).flush(), 'miss'));
      it('an update moving a row into the condition invalidates', () => check(read, update(Post, 3, authorRef(1)), 'miss'));
      const both: QueryRead = async (em) => ((([list, n]) => [rows(list), n])(await em.findAndCount(Post, { author: 1 }, { ...byId, cache: true })));
      it('findAndCount: a matching insert invalidates', () => check(both, newPost({ author: 1 }), 'miss'));
      it('findAndCount: an insert that does not match does not', () => check(both, newPost({ author: 2 }), 'hit'));
    });

    describe('many-to-many and to-many relations loaded with the query', () => {
      const read: QueryRead = async (em) => (await em.find(Post, { author: 1 }, { ...byId, populate: ['topics', 'replies'], cache: true }))
        .map((p) => [p.id, p.topics.getItems().map((t) => t.name).sort(), p.replies.getItems().map((r) => r.text).sort()]);
      it('a link added from the owning side invalidates', () => check(read, linkTopic(1, 2), 'miss'));
      it('a link removed from the inverse side invalidates', () => check(read, async (em) => {
        const red = await em.findOneOrFail(Topic, 1, { populate: ['posts'] });
        red.posts.remove(em.getReference(Post, 1));
        await em.flush();
      }, 'miss'));
      // Both sides of a link are bumped: a topic the query loaded would count as changed too.
      it('a link between rows it did not load does not', () => check(read, linkTopic(4, 3), 'hit'));
      it('a new reply to a loaded post invalidates', () => check(read, newReply(1), 'miss'));
      it('a new reply to another post does not', () => check(read, newReply(3), 'hit'));
      const filtered: QueryRead = async (em) => rows(await em.find(Post, { topics: 2 }, { ...byId, cache: true }));
      it('a link to the related key filtered on invalidates', () => check(filtered, linkTopic(3, 2), 'miss'));
      it('a link to another key does not', () => check(filtered, linkTopic(3, 1), 'hit'));
    });

    describe('pagination', () => {
      const read: QueryRead = async (em) => rows(await em.find(Post, { author: 1 }, { orderBy: { id: 'desc' }, limit: 1, offset: 1, cache: true }));
      it('a new row entering the window invalidates', () => check(read, newPost({ author: 1 }), 'miss'));
      it('a new row outside the condition does not', () => check(read, newPost({ author: 2 }), 'hit'));
    });

    describe('writes whose rows are not known', () => {
      const read: QueryRead = async (em) => rows(await em.find(Post, { author: 1 }, { ...byId, cache: true }));
      it('raw SQL invalidates through the rows-unknown tag', () => check(read, (em) => em.execute("update post set title = 'raw' where id = 1"), 'miss'));
      const withReplies: QueryRead = async (em) => (await em.find(Post, { author: 1 }, { ...byId, populate: ['replies'], cache: true })).map((p) => [p.id, p.replies.getItems().map((r) => r.text).sort()]);
      it('raw SQL into the table of a populated relation invalidates', () => check(withReplies, (em) => em.execute("insert into reply (id, text, post_id) values (50, 'raw', 2)"), 'miss'));
      const unseen = (em: SqlEntityManager) => em.getConnection().execute('update post set author_id = 3 where id = 1');
      it('a write no hook sees, reported by invalidateEntities with the bare key, reaches a query on its old value', () => check(read, async (em) => {
        await unseen(em);
        await invalidateEntities(em, Post, [1]);
      }, 'miss'));
      it('a query-builder update of a returned row invalidates', () => check(read, (em) => em.createQueryBuilder(Post).update({ title: 'qb' }).where({ id: 2 }).execute(), 'miss'));
    });

    describe('per-entity defaults', () => {
      const topic: QueryRead = async (em) => (await em.findOne(Topic, 1))?.name;
      it("queryCache: 'byId' caches a key lookup without being asked; a change of the row invalidates", () => check(topic, update(Topic, 1, { label: 'warm' }), 'miss'));
      it("queryCache: 'byId': a change of another row does not", () => check(topic, update(Topic, 2, { label: 'cold' }), 'hit'));
      const replies: QueryRead = async (em) => (await em.find(Reply, { post: 1 }, byId)).map((r) => r.text);
      it("queryCache: 'all' caches every query; a new matching row invalidates", () => check(replies, newReply(1), 'miss'));
      it("queryCache: 'all': a new row elsewhere does not", () => check(replies, newReply(2), 'hit'));
    });
  });
}

function linkTopic(postId: number, topicId: number) {
  return async (em: SqlEntityManager) => {
    const post = await em.findOneOrFail(Post, postId, { populate: ['topics'] });
    post.topics.add(await em.findOneOrFail(Topic, topicId));
    await em.flush();
  };
}

function newReply(postId: number) {
  return async (em: SqlEntityManager) => {
    em.create(Reply, { text: 'new', post: postId } as never);
    await em.flush();
  };
}
