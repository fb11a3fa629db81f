/*
 * Collection tags in MikroORM (docs/orm-contract.md, "Collection tags"): the same contract as
 * TypeORM's. A collection populated with its owner, or initialised later, makes a cached
 * computation depend on `<Owner>:<id>.<relation>` even when empty; a member's insert, move, delete,
 * a native or bulk write, and a many-to-many link invalidate it. The tag functions name rows only.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Collection, wrap, type LoadStrategy, type MikroORM } from '@mikro-orm/core';
import { Cached, CacheTags, setDefaultTagCache, TagCache } from '../../lib/index.js';
import { readTwice } from '../support/hits.js';
import { storeCases } from '../support/stores.js';
import { databaseCases, openOrm } from './support/orm.js';
import { Entity, ManyToMany, ManyToOne, OneToMany, PrimaryKey, Property } from './support/versions.js';

@CacheTags((post: Post) => [`Post_${post.id}`])
@Entity()
class Post {
  @PrimaryKey({ type: 'number', autoincrement: false }) id!: number;
  @Property({ type: 'string' }) title!: string;
  @OneToMany(() => Reaction, (reaction) => reaction.post) reactions = new Collection<Reaction>(this);
  @ManyToMany(() => Topic, (topic) => topic.posts, { owner: true }) topics = new Collection<Topic>(this);
}

@CacheTags((reaction: Reaction) => [`Reaction_${reaction.id}`])
@Entity()
class Reaction {
  @PrimaryKey({ type: 'number', autoincrement: false }) id!: number;
  @Property({ type: 'string' }) text!: string;
  @ManyToOne(() => Post, { deleteRule: 'cascade' }) post!: Post;
}

@CacheTags((topic: Topic) => [`Topic_${topic.id}`])
@Entity()
class Topic {
  @PrimaryKey({ type: 'number', autoincrement: false }) id!: number;
  @Property({ type: 'string' }) name!: string;
  @ManyToMany(() => Post, (post) => post.topics) posts = new Collection<Post>(this);
}

/** How a populate loads a to-many collection: by a join (MikroORM 6's default), or in a query of its own (7's default). */
type Strategy = 'joined' | 'select-in';

/** Declares no tags: what it depends on is learned from what it loads. */
class Reader {
  runs = 0;
  constructor(private readonly orm: MikroORM) {}

  @Cached()
  async reactionsOf(id: number, strategy?: Strategy): Promise<string[]> {
    this.runs++;
    const post = await this.orm.em.fork().findOneOrFail(Post, id, { populate: ['reactions'], strategy });
    return post.reactions.getItems().map((r) => r.text).sort();
  }

  /** The collection is initialised after the owner was loaded. */
  @Cached()
  async reactionsLater(id: number): Promise<string[]> {
    this.runs++;
    const post = await this.orm.em.fork().findOneOrFail(Post, id);
    return (await post.reactions.load()).getItems().map((r) => r.text).sort();
  }

  /** Owners loaded before a computation, outside it. */
  readonly owners = new Map<number, Post>();

  /** `em.populate` fills the collection of an owner loaded outside the computation. */
  @Cached()
  async reactionsPopulated(id: number, strategy?: Strategy): Promise<string[]> {
    this.runs++;
    const post = this.owners.get(id)!;
    await wrap(post).populate(['reactions'], { strategy: strategy as LoadStrategy | undefined, refresh: true });
    return post.reactions.getItems().map((r) => r.text).sort();
  }

  @Cached()
  async postsAbout(id: number, strategy?: Strategy): Promise<string[]> {
    this.runs++;
    const topic = await this.orm.em.fork().findOneOrFail(Topic, id, { populate: ['posts'], strategy });
    return topic.posts.getItems().map((p) => p.title).sort();
  }
}

for (const db of databaseCases) {
  describe(`MikroORM collection tags, ${db.name}`, { skip: db.skip }, () => {
    let orm: MikroORM;
    let close: () => Promise<void>;
    let cache: TagCache;
    let reader: Reader;

    before(async () => ({ orm, close } = await openOrm(db, { maxRowsPerWrite: 2 }, { entities: [Post, Reaction, Topic] })));
    after(async () => {
      setDefaultTagCache(new TagCache());
      await cache.close();
      await close();
    });
    beforeEach(async () => {
      cache = storeCases[0].make();
      setDefaultTagCache(cache);
      const em = orm.em.fork();
      await em.nativeDelete(Reaction, {});
      await em.nativeDelete(Post, {});
      await em.nativeDelete(Topic, {});
      await em.insertMany(Post, [5, 6, 7].map((id) => ({ id, title: `post ${id}` })));
      await em.insertMany(Topic, [{ id: 1, name: 'news' }, { id: 2, name: 'sport' }]);
      reader = new Reader(orm);
    });

    const cached = <T>(read: () => Promise<T>): Promise<T> => readTwice(read, () => reader.runs);

    it('an empty populated collection is invalidated by a new member; a member of another owner does not reach it', async () => {
      assert.deepEqual(await cached(() => reader.reactionsOf(5)), []);
      await orm.em.fork().insert(Reaction, { id: 1, text: 'other', post: 7 });
      assert.deepEqual(await reader.reactionsOf(5), []);
      assert.equal(reader.runs, 1, 'a reaction of post 7: still a hit');
      const em = orm.em.fork();
      await em.persist(em.create(Reaction, { id: 2, text: 'hello', post: 5 })).flush();
      assert.deepEqual(await reader.reactionsOf(5), ['hello']);
    });

    for (const strategy of ['joined', 'select-in'] as const) {
      it(`a non-empty collection populated ${strategy} is invalidated by a new member`, async () => {
        await orm.em.fork().insert(Reaction, { id: 1, text: 'first', post: 5 });
        assert.deepEqual(await cached(() => reader.reactionsOf(5, strategy)), ['first']);
        await orm.em.fork().insert(Reaction, { id: 2, text: 'second', post: 5 });
        assert.deepEqual(await reader.reactionsOf(5, strategy), ['first', 'second']);
      });

      it(`em.populate (${strategy}) of an owner loaded outside the computation is invalidated by a new member`, async () => {
        await orm.em.fork().insert(Reaction, { id: 1, text: 'first', post: 5 });
        reader.owners.set(5, await orm.em.fork().findOneOrFail(Post, 5));
        assert.deepEqual(await cached(() => reader.reactionsPopulated(5, strategy)), ['first']);
        await orm.em.fork().insert(Reaction, { id: 2, text: 'second', post: 5 });
        assert.deepEqual(await reader.reactionsPopulated(5, strategy), ['first', 'second']);
      });

      /*
       * A flush that links or unlinks also invalidates the rows of both sides, which the result
       * depends on anyway: the collection tag itself is what is checked here.
       */
      it(`a non-empty many-to-many collection populated ${strategy} depends on its collection tag`, async () => {
        const em = orm.em.fork();
        const post = await em.findOneOrFail(Post, 5, { populate: ['topics'] });
        post.topics.add(em.getReference(Topic, 2));
        await em.flush();
        assert.deepEqual(await cached(() => reader.postsAbout(2, strategy)), ['post 5']);
        await cache.invalidateTags(['Topic:2.posts']);
        assert.deepEqual(await cached(() => reader.postsAbout(2, strategy)), ['post 5']);
        assert.equal(reader.runs, 2, 'recomputed once the collection tag was invalidated');
      });
    }

    it('a collection initialised after its owner was loaded is tracked too', async () => {
      assert.deepEqual(await cached(() => reader.reactionsLater(6)), []);
      const em = orm.em.fork();
      await em.persist(em.create(Reaction, { id: 3, text: 'late', post: 6 })).flush();
      assert.deepEqual(await reader.reactionsLater(6), ['late']);
    });

    it('a non-empty collection initialised after its owner was loaded is invalidated by a new member', async () => {
      await orm.em.fork().insert(Reaction, { id: 1, text: 'first', post: 6 });
      assert.deepEqual(await cached(() => reader.reactionsLater(6)), ['first']);
      await orm.em.fork().insert(Reaction, { id: 2, text: 'second', post: 6 });
      assert.deepEqual(await reader.reactionsLater(6), ['first', 'second']);
    });

    it('a member moved between owners invalidates both; a delete invalidates its owner', async () => {
      await orm.em.fork().insert(Reaction, { id: 1, text: 'moving', post: 5 });
      assert.deepEqual(await cached(() => reader.reactionsOf(5)), ['moving']);
      assert.deepEqual(await cached(() => reader.reactionsOf(6)), []);
      const em = orm.em.fork();
      const reaction = await em.findOneOrFail(Reaction, 1);
      reaction.post = em.getReference(Post, 6);
      await em.flush();
      assert.deepEqual(await cached(() => reader.reactionsOf(5)), []);
      assert.deepEqual(await cached(() => reader.reactionsOf(6)), ['moving']);
      await em.remove(reaction).flush();
      assert.deepEqual(await reader.reactionsOf(6), []);
    });

    it('native updates invalidate it, and past maxRowsPerWrite the relation tag stands in', async () => {
      await orm.em.fork().insertMany(Reaction, [1, 2, 3].map((id) => ({ id, text: `r${id}`, post: 6 })));
      assert.deepEqual(await cached(() => reader.reactionsOf(5)), []);
      await orm.em.fork().nativeUpdate(Reaction, { id: 1 }, { post: 5 });
      assert.deepEqual(await cached(() => reader.reactionsOf(5)), ['r1']);
      await orm.em.fork().nativeUpdate(Reaction, { post: 6 }, { post: 5 });
      assert.deepEqual(await reader.reactionsOf(5), ['r1', 'r2', 'r3']);
    });

    it('many-to-many: adding and removing a link invalidates the collection on both sides', async () => {
      assert.deepEqual(await cached(() => reader.postsAbout(2)), []);
      const em = orm.em.fork();
      const post = await em.findOneOrFail(Post, 5, { populate: ['topics'] });
      post.topics.add(em.getReference(Topic, 2));
      await em.flush();
      assert.deepEqual(await cached(() => reader.postsAbout(2)), ['post 5']);
      post.topics.removeAll();
      await em.flush();
      assert.deepEqual(await reader.postsAbout(2), []);
    });
  });
}
