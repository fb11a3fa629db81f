import { Collection, OptionalProps, type MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { CacheTags } from '../../../lib/mikro-orm/index.js';
import { Entity, Filter, ManyToMany, ManyToOne, OneToMany, PrimaryKey, Property, clearDatabase } from './versions.js';

/*
 * The query cache's test model. Condition fields: every primary key, the join columns
 * (`post.author_id`, `post.reviewer_id`, `reply.post_id`), `author.username` (unique) and
 * `post.status` (indexed). `post.title` and `topic.label` are not condition fields. Topic lookups by
 * key are cached by default, every query of Reply is.
 */

@CacheTags((a: Author) => [`Author_${a.id}`])
@Entity()
export class Author {
  @PrimaryKey({ type: 'number' }) id!: number;
  @Property({ type: 'string', unique: true }) username!: string;
  @OneToMany(() => Post, (p) => p.author) posts = new Collection<Post>(this);
}

@CacheTags({ queryCache: 'byId' })
@Entity()
export class Topic {
  @PrimaryKey({ type: 'number' }) id!: number;
  @Property({ type: 'string', unique: true }) name!: string;
  @Property({ type: 'string', nullable: true }) label?: string | null;
  @ManyToMany(() => Post, (p) => p.topics) posts = new Collection<Post>(this);
}

@CacheTags((p: Post) => [`Post_${p.id}`])
@Filter({ name: 'minStatus', cond: (args: { min: number }) => ({ status: { $gte: args.min } }) })
@Entity()
export class Post {
  [OptionalProps]?: 'status';
  @PrimaryKey({ type: 'number' }) id!: number;
  @Property({ type: 'string' }) title!: string;
  @Property({ type: 'number', index: true }) status: number = 1;
  @ManyToOne(() => Author) author!: Author;
  @ManyToOne(() => Author, { nullable: true }) reviewer?: Author | null;
  @ManyToMany(() => Topic, (t) => t.posts, { owner: true }) topics = new Collection<Topic>(this);
  @OneToMany(() => Reply, (r) => r.post) replies = new Collection<Reply>(this);
}

@CacheTags({ queryCache: 'all' })
@Entity()
export class Reply {
  @PrimaryKey({ type: 'number' }) id!: number;
  @Property({ type: 'string' }) text!: string;
  @ManyToOne(() => Post, { deleteRule: 'cascade' }) post!: Post;
}

export const queryEntities = [Author, Topic, Post, Reply];

/**
 * Authors 1 ann, 2 bob, 3 david; topics 1 red, 2 blue, 3 green; posts 1 (ann, status 1, red), 2 (ann,
 * status 2, red+blue, reviewed by bob), 3 (bob, status 2), 4 (david, status 1); replies 1, 2 on
 * post 1, 3 on post 2.
 */
export async function seedPosts(orm: MikroORM): Promise<void> {
  await clearDatabase(orm);
  const em = orm.em.fork() as SqlEntityManager;
  const [ann, bob, david] = ['ann', 'bob', 'david'].map((username, i) => em.create(Author, { id: i + 1, username }));
  const [red, blue] = [em.create(Topic, { id: 1, name: 'red' }), em.create(Topic, { id: 2, name: 'blue' })];
  em.create(Topic, { id: 3, name: 'green' });
  const p1 = em.create(Post, { id: 1, title: 'beach', status: 1, author: ann, topics: [red] });
  const p2 = em.create(Post, { id: 2, title: 'forest', status: 2, author: ann, reviewer: bob, topics: [red, blue] });
  em.create(Post, { id: 3, title: 'city', status: 2, author: bob });
  em.create(Post, { id: 4, title: 'bay', status: 1, author: david });
  em.create(Reply, { id: 1, text: 'nice', post: p1 });
  em.create(Reply, { id: 2, text: 'wow', post: p1 });
  em.create(Reply, { id: 3, text: 'green', post: p2 });
  await em.flush();
  if (orm.config.get('driver')?.name === 'PostgreSqlDriver') {
    for (const table of ['author', 'topic', 'post', 'reply']) await em.execute(`select setval(pg_get_serial_sequence('"${table}"', 'id'), 100)`);
  }
}
