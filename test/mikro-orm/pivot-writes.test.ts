/*
 * Writes made to a many-to-many relation's pivot rows directly (docs/write-paths.md, "pivot
 * entity"): through an explicit `pivotEntity` class, or the implicit pivot entity by its name.
 * Each path must invalidate the collection tags of both owner sides the rows link
 * (`Book:<id>.labels`, `Label:<id>.books`) and the cached queries that filter on the relation,
 * as a link added by `collection.add()` does. Read → write → read on every database and store.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { Collection, type EntityManager, type MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { Cached, CacheTags, setDefaultTagCache, TagCache } from '../../lib/index.js';
import { readTwice } from '../support/hits.js';
import { storeCases } from '../support/stores.js';
import { databaseCases, openOrm } from './support/orm.js';
import { Entity, ManyToMany, ManyToOne, PrimaryKey, Property } from './support/versions.js';

@CacheTags((book: Book) => [`Book_${book.id}`])
@Entity()
class Book {
  @PrimaryKey({ type: 'number', autoincrement: false }) id!: number;
  @Property({ type: 'string' }) title!: string;
  @ManyToMany({ entity: () => Label, pivotEntity: () => BookLabel, inversedBy: 'books' }) labels = new Collection<Label>(this);
  @ManyToMany(() => Genre, (genre) => genre.books, { owner: true }) genres = new Collection<Genre>(this);
}

@Entity()
class Label {
  @PrimaryKey({ type: 'number', autoincrement: false }) id!: number;
  @Property({ type: 'string' }) name!: string;
  @ManyToMany(() => Book, (book) => book.labels) books = new Collection<Book>(this);
}

@Entity()
class BookLabel {
  @ManyToOne(() => Book, { primary: true }) book!: Book;
  @ManyToOne(() => Label, { primary: true }) label!: Label;
}

@Entity()
class Genre {
  @PrimaryKey({ type: 'number', autoincrement: false }) id!: number;
  @Property({ type: 'string' }) name!: string;
  @ManyToMany(() => Book, (book) => book.genres) books = new Collection<Book>(this);
}

type Owner = 'Book' | 'Label' | 'Genre';
type Relation = 'labels' | 'genres' | 'books';

/** What a path reads: through a fork, computed by the database each time. */
class Reader {
  runs = 0;
  /** `fork()`: the entity manager each read runs on. */
  constructor(private readonly fork: () => EntityManager) {}

  /** The members of the collection `relation` of one `owner` row, populated with it: their titles or names. */
  async members(owner: Owner, id: number, relation: Relation): Promise<string[]> {
    this.runs++;
    const found = await this.fork().findOneOrFail<object>(owner, id, { populate: [relation] as never });
    const items = (found as Record<string, Collection<Book | Label | Genre>>)[relation].getItems();
    return items.map((item) => ('title' in item ? item.title : item.name)).sort();
  }
}

/** The same reads, cached with their loads tracked (no tag declared). */
class CachedReader extends Reader {
  @Cached() override members(owner: Owner, id: number, relation: Relation): Promise<string[]> {
    return super.members(owner, id, relation);
  }
}

type Read = (reader: Reader, em: EntityManager) => Promise<unknown>;

/** A query filtering on the relation, cached by the query cache (`cache: true`) unless in a transaction. */
const booksNamed = (name: string): Read => async (_, em) => (await em.find(Book, { labels: { name } }, { orderBy: { id: 'asc' }, cache: true })).map((b) => b.id);

const labelReads: Record<string, Read> = {
  'labels of book 5': (r) => r.members('Book', 5, 'labels'),
  'labels of book 6': (r) => r.members('Book', 6, 'labels'),
  'books labelled news': (r) => r.members('Label', 1, 'books'),
  'books labelled sport': (r) => r.members('Label', 2, 'books'),
  'query: books labelled news': booksNamed('news'),
  'query: books labelled sport': booksNamed('sport'),
};

const genreReads: Record<string, Read> = {
  'genres of book 5': (r) => r.members('Book', 5, 'genres'),
  'books of genre 1': (r) => r.members('Genre', 1, 'books'),
  'books of genre 2': (r) => r.members('Genre', 2, 'books'),
};

/** The implicit pivot entity of `Book.genres`, by the name MikroORM gave it. */
function genrePivot(orm: MikroORM): string {
  return orm.getMetadata().get(Book.name).properties.genres.pivotEntity;
}

/** A row of the implicit pivot, keyed by the property names MikroORM gave its two foreign keys. */
function genreLink(orm: MikroORM, book: number, genre: number): Record<string, number> {
  const props = Object.values(orm.getMetadata().get(genrePivot(orm)).properties);
  const named = (type: string) => props.find((prop) => prop.type === type)!.name;
  return { [named(Book.name)]: book, [named(Genre.name)]: genre };
}

interface PivotWrite {
  path: string;
  reads: Record<string, Read>;
  write(orm: MikroORM, em: SqlEntityManager): Promise<unknown>;
}

const link = (book: number, label: number) => ({ book, label }) as never;

/*
 * The seed: book 5 is labelled sport, books 6 and 7 too; no book is labelled news. Book 5 is of
 * genre 2. With `maxRowsPerWrite: 2`, a write by a condition matching all three sport links
 * cannot read its rows.
 */
const writes: PivotWrite[] = [
  { path: 'em.insert(BookLabel)', reads: labelReads, write: (_, em) => em.insert(BookLabel, link(5, 1)) },
  { path: 'em.insertMany(BookLabel)', reads: labelReads, write: (_, em) => em.insertMany(BookLabel, [link(5, 1), link(6, 1)]) },
  { path: 'em.create(BookLabel) + flush', reads: labelReads, write: (_, em) => em.persist(em.create(BookLabel, link(5, 1))).flush() },
  {
    path: 'em.remove(bookLabel) + flush',
    reads: labelReads,
    write: async (_, em) => em.remove(await em.findOneOrFail(BookLabel, link(5, 2))).flush(),
  },
  { path: 'em.nativeDelete(BookLabel) by both keys', reads: labelReads, write: (_, em) => em.nativeDelete(BookLabel, link(5, 2)) },
  { path: 'em.nativeDelete(BookLabel) past maxRowsPerWrite', reads: labelReads, write: (_, em) => em.nativeDelete(BookLabel, { label: 2 }) },
  { path: 'em.nativeUpdate(BookLabel): relabel a link', reads: labelReads, write: (_, em) => em.nativeUpdate(BookLabel, link(5, 2), { label: 1 }) },
  { path: 'qb.insert() on BookLabel', reads: labelReads, write: (_, em) => em.createQueryBuilder(BookLabel).insert(link(6, 1)).execute() },
  { path: 'qb.delete() on BookLabel', reads: labelReads, write: (_, em) => em.createQueryBuilder(BookLabel).delete(link(5, 2)).execute() },
  { path: 'qb.update() on BookLabel', reads: labelReads, write: (_, em) => em.createQueryBuilder(BookLabel).update({ label: 1 }).where(link(6, 2)).execute() },
  { path: 'em.insert(implicit pivot)', reads: genreReads, write: (orm, em) => em.insert(genrePivot(orm), genreLink(orm, 5, 1)) },
  { path: 'em.nativeDelete(implicit pivot)', reads: genreReads, write: (orm, em) => em.nativeDelete(genrePivot(orm), genreLink(orm, 5, 2)) },
];

async function seed(orm: MikroORM): Promise<void> {
  const em = orm.em.fork();
  for (const entity of [BookLabel, genrePivot(orm), Book, Label, Genre]) await em.nativeDelete(entity, {});
  await em.insertMany(Book, [5, 6, 7].map((id) => ({ id, title: `book ${id}` })));
  await em.insertMany(Label, [{ id: 1, name: 'news' }, { id: 2, name: 'sport' }]);
  await em.insertMany(Genre, [{ id: 1, name: 'poetry' }, { id: 2, name: 'crime' }]);
  await em.insertMany(BookLabel, [link(5, 2), link(6, 2), link(7, 2)]);
  await em.insert(genrePivot(orm), genreLink(orm, 5, 2));
}

for (const db of databaseCases) {
  for (const store of storeCases) {
    describe(`MikroORM pivot-entity writes, ${db.name} + ${store.name} store`, { skip: db.skip || store.skip }, () => {
      let orm: MikroORM;
      let close: () => Promise<void>;
      let cache: TagCache;

      before(async () => ({ orm, close } = await openOrm(db, { maxRowsPerWrite: 2 }, { entities: [Book, Label, BookLabel, Genre] })));
      beforeEach(async () => {
        cache = store.make();
        setDefaultTagCache(cache);
        await seed(orm);
      });
      afterEach(async () => {
        setDefaultTagCache(new TagCache());
        await cache.close();
      });
      after(() => close());

      for (const row of writes) {
        it(`${row.path}: the new membership is seen`, async () => {
          const reader = new CachedReader(() => orm.em.fork());
          const before: Record<string, unknown> = {};
          for (const [name, read] of Object.entries(row.reads)) before[name] = await readTwice(() => read(reader, orm.em.fork()), () => reader.runs);

          await row.write(orm, orm.em.fork() as SqlEntityManager);

          let changed = false;
          for (const [name, read] of Object.entries(row.reads)) {
            // Inside a transaction the query cache is bypassed: the database's answer.
            const fresh = await orm.em.fork().transactional((em) => read(new Reader(() => em), em));
            assert.deepEqual(await read(reader, orm.em.fork()), fresh, `${name} after the write is not stale`);
            if (JSON.stringify(fresh) !== JSON.stringify(before[name])) changed = true;
          }
          assert.ok(changed, 'the write changed what at least one read returns');
        });
      }
    });
  }
}
