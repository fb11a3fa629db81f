/*
 * MikroORM + cache-tags, no server needed (SQLite in memory, in-process cache):
 *   node scripts/compile.mjs --quick && node .build/examples/mikro-orm/index.js
 */
import 'reflect-metadata';
import { Entity, ManyToOne, MikroORM, PrimaryKey, Property } from '@mikro-orm/core';
import { BetterSqliteDriver as SqliteDriver } from '@mikro-orm/better-sqlite';
import { Cached, TagCache, setDefaultTagCache } from '../../lib/index.js';
import { CacheTags, defineCacheTagsConfig } from '../../lib/mikro-orm/index.js';

@CacheTags((a: Author) => [`Author_${a.id}`])
@Entity()
class Author {
  @PrimaryKey({ type: 'number' }) id!: number;
  @Property({ type: 'string' }) name!: string;
}

@CacheTags((b: Book) => [`Book_${b.id}`, `Author_${b.author.id}_books`])
@Entity()
class Book {
  @PrimaryKey({ type: 'number' }) id!: number;
  @Property({ type: 'string' }) title!: string;
  @ManyToOne(() => Author) author!: Author;
}

class Library {
  constructor(private readonly orm: MikroORM) {}

  @Cached({ tags: (authorId: number) => [`Author_${authorId}_books`] })
  async titlesBy(authorId: number): Promise<string[]> {
    const books = await this.orm.em.fork().find(Book, { author: authorId }, { orderBy: { id: 'asc' } });
    return books.map((b) => b.title);
  }
}

async function main(): Promise<void> {
  const cache = new TagCache();
  setDefaultTagCache(cache);
  const orm = await MikroORM.init(defineCacheTagsConfig({ driver: SqliteDriver, dbName: ':memory:', entities: [Author, Book] }, { cache }));
  await orm.schema.createSchema();
  const em = orm.em.fork();
  const ann = em.create(Author, { id: 1, name: 'Ann' });
  em.create(Book, { id: 1, title: 'Tides', author: ann });
  await em.flush();

  const library = new Library(orm);
  process.stdout.write(`before: ${JSON.stringify(await library.titlesBy(1))}\n`);
  await orm.em.fork().nativeUpdate(Book, { id: 1 }, { title: 'Tides (2nd ed.)' }); // no ORM event: covered by the entity manager
  process.stdout.write(`after nativeUpdate: ${JSON.stringify(await library.titlesBy(1))}\n`);
  await orm.em.fork().transactional((tem) => {
    tem.create(Book, { id: 2, title: 'Reefs', author: 1 });
    return Promise.resolve();
  }); // one invalidation when the commit returns
  process.stdout.write(`after transactional: ${JSON.stringify(await library.titlesBy(1))}\n`);
  await orm.close(true);
}

void main();
