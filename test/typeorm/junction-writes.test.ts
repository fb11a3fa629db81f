/*
 * Writes made to a many-to-many's junction table through an entity mapped onto it
 * (docs/write-paths.md, "junction entity"): `@Entity('post_tags_tag') class PostTag` beside
 * `@ManyToMany(() => Tag) @JoinTable() tags` on Post. TypeORM gives that entity metadata of its
 * own, apart from the junction's, so each path must still invalidate the collection tags of both
 * sides the rows link (`Post:<id>.tags`, `Tag:<id>.posts`) and the cached queries that filter
 * through the relation, as a link added by `save(post)` does. Read → write → read on every database.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Column, Entity, JoinTable, ManyToMany, PrimaryColumn, type DataSource } from 'typeorm';
import { Cached, CacheTags, setDefaultTagCache, TagCache } from '../../lib/index.js';
import { installCacheTags } from '../../lib/typeorm/index.js';
import { readTwice } from '../support/hits.js';
import { storeCases } from '../support/stores.js';
import { databaseCases, type DatabaseCase } from './support/databases.js';

@CacheTags((post: Post) => [`Post_${post.id}`])
@Entity()
class Post {
  @PrimaryColumn({ type: 'int' }) id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @ManyToMany(() => Tag, (tag) => tag.posts) @JoinTable() tags?: Tag[];
}

@Entity()
class Tag {
  @PrimaryColumn({ type: 'int' }) id!: number;
  @Column({ type: 'varchar' }) name!: string;
  @ManyToMany(() => Post, (post) => post.tags) posts?: Post[];
}

/** The junction table TypeORM made for `Post.tags`, mapped as an entity; its properties named apart from the junction's columns. */
@Entity('post_tags_tag')
class PostTag {
  @PrimaryColumn({ type: 'int', name: 'postId' }) post!: number;
  @PrimaryColumn({ type: 'int', name: 'tagId' }) tag!: number;
}

/** Declares no tags: what it depends on is learned from what it loads. */
class Reader {
  runs = 0;
  constructor(private readonly dataSource: DataSource) {}

  @Cached()
  async tagsOf(id: number): Promise<string[]> {
    this.runs++;
    const post = await this.dataSource.getRepository(Post).findOneOrFail({ where: { id }, relations: { tags: true } });
    return post.tags!.map((t) => t.name).sort();
  }

  @Cached()
  async postsTagged(id: number): Promise<string[]> {
    this.runs++;
    const tag = await this.dataSource.getRepository(Tag).findOneOrFail({ where: { id }, relations: { posts: true } });
    return tag.posts!.map((p) => p.title).sort();
  }
}

/** A write path: link post 5 to tag 2 (none before), or unlink them (linked before); post 6 – tag 3 is a link no read looks at. */
interface Path {
  name: string;
  link: boolean;
  write(ds: DataSource, db: DatabaseCase): Promise<unknown>;
}

const junction = (ds: DataSource) => ds.getRepository(PostTag);
const raw = (ds: DataSource, db: DatabaseCase, sql: string) => ds.query(sql.replace(/\{(\w+)\}/g, (_, name: string) => db.quote(name)));

const paths: Path[] = [
  { name: 'repository.save', link: true, write: (ds) => junction(ds).save({ post: 5, tag: 2 }) },
  { name: 'repository.insert', link: true, write: (ds) => junction(ds).insert({ post: 5, tag: 2 }) },
  { name: 'query builder insert', link: true, write: (ds) => ds.createQueryBuilder().insert().into(PostTag).values({ post: 5, tag: 2 }).execute() },
  { name: 'repository.update (post 6 – tag 3 moved onto post 5 – tag 2)', link: true, write: (ds) => junction(ds).update({ post: 6, tag: 3 }, { post: 5, tag: 2 }) },
  {
    name: 'query builder update SETting the key by an SQL expression',
    link: true,
    write: (ds) => ds.createQueryBuilder().update(PostTag).set({ post: () => '5', tag: () => '2' }).where({ post: 6, tag: 3 }).execute(),
  },
  { name: 'raw INSERT', link: true, write: (ds, db) => raw(ds, db, 'INSERT INTO {post_tags_tag} ({postId}, {tagId}) VALUES (5, 2)') },
  { name: 'repository.delete', link: false, write: (ds) => junction(ds).delete({ post: 5, tag: 2 }) },
  { name: 'repository.remove', link: false, write: async (ds) => junction(ds).remove(await junction(ds).findOneByOrFail({ post: 5, tag: 2 })) },
  { name: 'query builder delete', link: false, write: (ds) => ds.createQueryBuilder().delete().from(PostTag).where({ post: 5, tag: 2 }).execute() },
  {
    name: 'query builder delete past maxRowsPerWrite, its rows not read',
    link: false,
    write: (ds) => ds.createQueryBuilder().delete().from(PostTag).where([{ post: 5, tag: 2 }, { post: 6, tag: 3 }]).execute(),
  },
  { name: 'raw DELETE', link: false, write: (ds, db) => raw(ds, db, 'DELETE FROM {post_tags_tag} WHERE {postId} = 5 AND {tagId} = 2') },
];

for (const db of databaseCases) {
  describe(`TypeORM junction-entity writes, ${db.name}`, { skip: db.skip }, () => {
    let dataSource: DataSource;
    let drop: () => Promise<void>;
    let cache: TagCache;
    let reader: Reader;

    before(async () => {
      ({ dataSource, drop } = await db.open({ entities: [Post, Tag, PostTag] }));
      installCacheTags(dataSource, { maxRowsPerWrite: 1 });
    });
    after(() => drop());
    beforeEach(async () => {
      cache = storeCases[0].make();
      setDefaultTagCache(cache);
      for (const table of ['post_tags_tag', 'tag', 'post']) await dataSource.query(`DELETE FROM ${db.quote(table)}`);
      await dataSource.getRepository(Post).insert([5, 6].map((id) => ({ id, title: `post ${id}` })));
      await dataSource.getRepository(Tag).insert([{ id: 1, name: 'news' }, { id: 2, name: 'sport' }, { id: 3, name: 'misc' }]);
      reader = new Reader(dataSource);
    });
    after(async () => {
      setDefaultTagCache(new TagCache());
      await cache.close();
    });

    /** Post ids through the relation, by the query cache. */
    const postsNamed = async (name: string) => (await dataSource.getRepository(Post).find({ where: { tags: { name } }, order: { id: 'ASC' }, cache: true })).map((p) => p.id);

    for (const path of paths) {
      it(`${path.name} (${path.link ? 'a new link' : 'a link removed'}) is seen by both collections and by a query through the relation`, async () => {
        await junction(dataSource).insert([{ post: 6, tag: 2 }, { post: 5, tag: 1 }, { post: 6, tag: 3 }, ...(path.link ? [] : [{ post: 5, tag: 2 }])]);
        const before = { tags: path.link ? ['news'] : ['news', 'sport'], posts: path.link ? ['post 6'] : ['post 5', 'post 6'], ids: path.link ? [6] : [5, 6] };
        const after = { tags: path.link ? ['news', 'sport'] : ['news'], posts: path.link ? ['post 5', 'post 6'] : ['post 6'], ids: path.link ? [5, 6] : [6] };
        assert.deepEqual(await readTwice(() => reader.tagsOf(5), () => reader.runs), before.tags);
        assert.deepEqual(await readTwice(() => reader.postsTagged(2), () => reader.runs), before.posts);
        assert.deepEqual(await postsNamed('sport'), before.ids);
        assert.deepEqual(await postsNamed('sport'), before.ids);
        await path.write(dataSource, db);
        assert.deepEqual({ tags: await reader.tagsOf(5), posts: await reader.postsTagged(2), ids: await postsNamed('sport') }, after);
      });
    }
  });
}
