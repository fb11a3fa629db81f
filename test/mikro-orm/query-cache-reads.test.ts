import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MikroORM, helper, wrap } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { Cached, CacheTagsError, TagCache, setDefaultTagCache } from '../../lib/index.js';
import { CacheTags, cachedQuery, defineCacheTagsConfig } from '../../lib/mikro-orm/index.js';
import { storeCases } from '../support/stores.js';
import { databaseCases } from './support/orm.js';
import { Author, Post, Reply, Topic } from './support/query-model.js';
import { querySuite } from './support/query-suite.js';
import { Entity, PrimaryKey, Property, createSchema, sqliteInMemory } from './support/versions.js';

/*
 * What a cached MikroORM read hands back and what its key holds: a hit is managed entities of the
 * caller's entity manager, shaped like what the query loaded; every option and entity manager
 * state that changes the result has an entry of its own; reads that must see the database do.
 */

const sqlite = databaseCases[0];

for (const store of storeCases) {
  describe(`MikroORM query cache reads, ${store.name} store`, { skip: store.skip }, () => {
    const suite = querySuite(sqlite, store);

    it('a hit is managed entities of the calling entity manager, with what the query populated and nothing else', async () => {
      const first = suite.fork();
      const loaded = await first.find(Post, { author: 1 }, { orderBy: { id: 'asc' }, populate: ['topics', 'author'], cache: true });
      await first.populate(loaded, ['replies']); // loaded later, not by the query: not part of its result
      const em = suite.fork();
      const { result: hit, statements } = await suite.run(() => em.find(Post, { author: 1 }, { orderBy: { id: 'asc' }, populate: ['topics', 'author'], cache: true }));
      assert.equal(statements, 0);
      const posts = hit as Post[];
      assert.deepEqual(posts.map((p) => p.id), [1, 2]);
      assert.ok(posts[0] instanceof Post);
      assert.equal(em.getUnitOfWork().getById(Post.name, 1), posts[0], 'the entity is in the identity map of the entity manager that asked');
      assert.equal(helper(posts[0]).__em, em);
      assert.deepEqual(posts[1].topics.getItems().map((t) => t.name).sort(), ['blue', 'red']);
      assert.equal(posts[0].author.username, 'ann');
      assert.equal(posts[0].author, posts[1].author, 'one author entity for both posts');
      assert.equal(posts[0].replies.isInitialized(), false, 'replies were not populated by the query');
      // Managed: a change is flushed as an update of that column alone.
      const before = suite.statements.length;
      posts[0].title = 'shore';
      await em.flush();
      assert.ok(suite.statements.slice(before).some((sql) => /^update .*post.* set .*title/i.test(sql) && !/status/.test(sql)), suite.statements.slice(before).join('\n'));
      assert.equal((await suite.fork().findOneOrFail(Post, 1)).title, 'shore');
    });

    it('a hit merges into an entity the entity manager holds, keeping its unflushed change', async () => {
      await suite.run((em) => em.find(Post, { status: 2 }, { orderBy: { id: 'asc' }, cache: true }));
      const em = suite.fork();
      const held = await em.findOneOrFail(Post, 2);
      held.title = 'mine';
      const { result, statements } = await suite.run(() => em.find(Post, { status: 2 }, { orderBy: { id: 'asc' }, cache: true, flushMode: 'commit' }));
      const posts = result as Post[];
      assert.equal(statements, 0);
      assert.equal(posts.find((p) => p.id === 2), held);
      assert.equal(held.title, 'mine');
    });

    it("populate: ['*'] on a hit loads what the miss loaded", async () => {
      const shape = (p: Post) => ({
        author: p.author.username,
        reviewer: p.reviewer?.username,
        topics: p.topics.getItems().map((t) => [t.name, t.posts.getItems().map((q) => q.id).sort()]).sort(),
        replies: p.replies.getItems().map((r) => r.text),
        others: p.author.posts.getItems().map((q) => [q.id, q.title]),
      });
      const read = (em: SqlEntityManager) => em.findOneOrFail(Post, 2, { populate: ['*'], cache: true });
      const miss = shape(await read(suite.fork()));
      const { result, statements } = await suite.run(read);
      assert.equal(statements, 0);
      assert.deepEqual(shape(result as Post), miss);
      assert.deepEqual(miss.topics, [['blue', [2]], ['red', [1, 2]]]);
    });

    it('an empty result and a missing row are cached too', async () => {
      for (let i = 0; i < 2; i++) {
        const none = await suite.run((em) => em.find(Post, { author: 2, status: 1 }, { cache: true }));
        const missing = await suite.run((em) => em.findOne(Post, { title: 'nowhere' }, { cache: true }));
        assert.deepEqual([none.result, missing.result], [[], null]);
        assert.equal(none.statements + missing.statements, i === 0 ? 2 : 0);
      }
    });

    it('populate, fields, orderBy, limit and filters each key their own entry', async () => {
      const variants = [
        (em: SqlEntityManager) => em.find(Post, {}, { orderBy: { id: 'asc' }, cache: true }),
        (em: SqlEntityManager) => em.find(Post, {}, { orderBy: { id: 'desc' }, cache: true }),
        (em: SqlEntityManager) => em.find(Post, {}, { orderBy: { status: 'desc', id: 'asc' }, cache: true }),
        (em: SqlEntityManager) => em.find(Post, {}, { orderBy: { id: 'asc' }, limit: 2, offset: 2, cache: true }),
        (em: SqlEntityManager) => em.find(Post, {}, { orderBy: { id: 'asc' }, filters: { minStatus: { min: 2 } }, cache: true }),
        (em: SqlEntityManager) => em.find(Post, {}, { orderBy: { id: 'asc' }, fields: ['title'], cache: true }),
        (em: SqlEntityManager) => em.find(Post, {}, { orderBy: { id: 'asc' }, populate: ['replies'], cache: true }),
        (em: SqlEntityManager) => em.find(Post, { title: /^b/ }, { orderBy: { id: 'asc' }, cache: true }),
        (em: SqlEntityManager) => em.find(Post, { title: /^c/ }, { orderBy: { id: 'asc' }, cache: true }),
      ];
      const shape = (posts: Post[]) => posts.map((p) => wrap(p).toObject());
      const first = [];
      for (const read of variants) first.push(shape((await suite.run(read)).result as Post[]));
      for (const [i, read] of variants.entries()) {
        const again = await suite.run(read);
        assert.equal(again.statements, 0, `variant ${i} is a hit`);
        assert.deepEqual(shape(again.result as Post[]), first[i], `variant ${i} returns its own result`);
      }
      assert.equal(new Set(first.map((r) => JSON.stringify(r))).size, variants.length, 'the variants differ');
    });

    it("the entity manager's filter parameters key the entry, also where they filter only populated rows", async () => {
      const read = (min: number) => suite.run(async (em) => {
        em.setFilterParams('minStatus', { min });
        const [ann] = await em.find(Author, { id: 1 }, { populate: ['posts'], filters: ['minStatus'], cache: true });
        return ann.posts.getItems().map((p) => p.id).sort();
      });
      const two = await read(2);
      const one = await read(1);
      assert.ok(one.statements > 0, 'another parameter is another entry');
      assert.deepEqual([two.result, one.result], [[2], [1, 2]]);
      assert.equal((await read(2)).statements, 0);
    });

    it('inside a transaction the database answers and sees its own writes; nothing is stored', async () => {
      await suite.run((em) => em.find(Post, { author: 1 }, { cache: true }));
      await suite.fork().transactional(async (em) => {
        const before = suite.statements.length;
        const post = await em.findOneOrFail(Post, 1, { cache: true });
        post.title = 'inside';
        await em.flush();
        const titles = (await em.find(Post, { author: 1 }, { orderBy: { id: 'asc' }, cache: true })).map((p) => p.title);
        assert.deepEqual(titles, ['inside', 'forest']);
        assert.ok(suite.statements.length - before >= 3, 'reads inside the transaction ran SQL');
      });
      const after = await suite.run((em) => em.find(Post, { author: 1 }, { orderBy: { id: 'asc' }, cache: true }));
      assert.ok(after.statements > 0, 'the commit invalidated the entry');
      assert.deepEqual((after.result as Post[]).map((p) => p.title), ['inside', 'forest']);
    });

    it('a pending change the read would flush reaches the cache first', async () => {
      await suite.run((em) => em.find(Post, { author: 2 }, { cache: true }));
      const em = suite.fork();
      em.create(Post, { title: 'pending', author: 2 });
      const posts = await em.find(Post, { author: 2 }, { orderBy: { id: 'asc' }, cache: true });
      assert.deepEqual(posts.map((p) => p.title), ['city', 'pending']);
    });

    it("cache: false opts a query out of its entity's default, and [key, ttl] and a number set the entry's TTL", async () => {
      for (let i = 0; i < 2; i++) assert.equal((await suite.run((em) => em.find(Reply, {}, { cache: false }))).statements, 1);
      const ttls: (number | undefined)[] = [];
      const off = (suite.cache).on('set', (e) => ttls.push(e.ttl));
      await suite.run((em) => em.find(Post, { id: 1 }, { cache: ['post-1', 60_000] }));
      await suite.run((em) => em.count(Post, {}, { cache: 30_000 }));
      off();
      assert.deepEqual(ttls, [60_000, 30_000]);
      assert.equal((await suite.run((em) => em.find(Post, { id: 1 }, { cache: ['post-1', 60_000] }))).statements, 0);
    });

    it('concurrent misses of one query run it once', async () => {
      const before = suite.statements.length;
      const results = await Promise.all([1, 2, 3].map(() => suite.fork().find(Post, { status: 2 }, { orderBy: { id: 'asc' }, cache: true })));
      assert.equal(suite.statements.length - before, 1);
      assert.deepEqual(results.map((posts) => posts.map((p) => p.id)), [[2, 3], [2, 3], [2, 3]]);
      assert.notEqual(results[0][0], results[1][0], 'each entity manager has its own entities');
    });

    it('a cached method that reads through the query cache depends on what the query depends on', async () => {
      class Service {
        calls = 0;
        @Cached({ key: () => 'titles' })
        async titles() {
          this.calls++;
          return (await suite.fork().find(Post, { author: 1 }, { orderBy: { id: 'asc' }, cache: true })).map((p) => p.title);
        }
      }
      const svc = new Service();
      await svc.titles();
      await svc.titles();
      assert.equal(svc.calls, 1);
      const em = suite.fork();
      em.create(Post, { title: 'new', author: 1 });
      await em.flush();
      assert.deepEqual(await svc.titles(), ['beach', 'forest', 'new']);
    });

    it('wrong cache options fail with a clear error before any SQL', async () => {
      const before = suite.statements.length;
      await assert.rejects(suite.fork().find(Post, { author: 1 }, { cache: { invalidateOn: ['title'] } as never }), (e: unknown) => e instanceof CacheTagsError && e.code === 'E_INVALID_OPTION' && /title is not a condition field of Post/.test(e.message));
      await assert.rejects(suite.fork().find(Post, {}, { cache: 'yes' as never }), (e: unknown) => e instanceof CacheTagsError && /em.find: option cache/.test(e.message));
      await assert.rejects(cachedQuery(suite.fork(), 'find', Post, {}, {}, { ttl: -1 }), (e: unknown) => e instanceof CacheTagsError && /ttl/.test(e.message));
      assert.equal(suite.statements.length, before);
    });
  });
}

describe('MikroORM query cache set-up', () => {
  it('cachedQuery on an ORM without cache-tags is an error naming the fix', async () => {
    const orm = await MikroORM.init({ ...sqliteInMemory(), entities: [Author, Topic, Post, Reply], allowGlobalContext: true });
    try {
      await assert.rejects(cachedQuery(orm.em.fork(), 'find', Post, {}), (e: unknown) => e instanceof CacheTagsError && /not installed/.test(e.message));
    } finally {
      await orm.close();
    }
  });

  it('a query of an inheritance parent is served when the parent is decorated, and refused when its children\'s writes would not reach it', async () => {
    @Entity({ discriminatorColumn: 'kind', abstract: true })
    class Animal {
      @PrimaryKey({ type: 'number' }) id!: number;
      @Property({ type: 'string' }) kind!: string;
      @Property({ type: 'string', index: true }) name!: string;
    }
    @CacheTags({})
    @Entity({ discriminatorValue: 'dog' })
    class Dog extends Animal {}
    @CacheTags({})
    @Entity({ discriminatorColumn: 'kind', abstract: true })
    class Vehicle {
      @PrimaryKey({ type: 'number' }) id!: number;
      @Property({ type: 'string' }) kind!: string;
      @Property({ type: 'string', index: true }) name!: string;
    }
    @Entity({ discriminatorValue: 'car' })
    class Car extends Vehicle {}
    const orm = await MikroORM.init(defineCacheTagsConfig({ ...sqliteInMemory(), entities: [Animal, Dog, Vehicle, Car], allowGlobalContext: true }));
    const cache = new TagCache();
    setDefaultTagCache(cache);
    try {
      await createSchema(orm);
      await assert.rejects(orm.em.fork().find(Animal, { name: 'rex' }, { cache: true }), (e: unknown) => e instanceof CacheTagsError && e.code === 'E_INVALID_OPTION' && /Animal has the child entity Dog/.test(e.message));
      const cars = async () => (await orm.em.fork().find(Vehicle, { name: 'mini' }, { cache: true })).map((v) => v.id);
      assert.deepEqual(await cars(), []);
      const em = orm.em.fork();
      em.create(Car, { id: 1, name: 'mini' } as never);
      await em.flush();
      assert.deepEqual(await cars(), [1], "a child's insert reaches the parent's query");
    } finally {
      setDefaultTagCache(new TagCache());
      await cache.close();
      await orm.close();
    }
  });

  it('a conditionFields entry that cannot be one fails MikroORM.init, naming the entity and field', async () => {
    @CacheTags({ conditionFields: ['createdAt'] })
    @Entity()
    class Stamp {
      @PrimaryKey({ type: 'number' }) id!: number;
      @Property({ type: 'Date' }) createdAt!: Date;
    }
    await assert.rejects(
      MikroORM.init(defineCacheTagsConfig({ ...sqliteInMemory(), entities: [Stamp], allowGlobalContext: true })),
      (e: unknown) => e instanceof CacheTagsError && e.code === 'E_INVALID_OPTION' && /Stamp: condition field createdAt/.test(e.message),
    );
  });
});
