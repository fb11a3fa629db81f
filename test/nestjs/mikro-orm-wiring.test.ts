import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { EntityManager, MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cached, CacheTags, TagCache } from '../../lib/index.js';
import { defineCacheTagsConfig, CacheTagsSubscriber as MikroSubscriber } from '../../lib/mikro-orm/index.js';
import { CacheTagsModule } from '../../lib/nestjs/index.js';
import { Entity, PrimaryKey, Property, createSchema, sqliteInMemory } from '../mikro-orm/support/versions.js';

/*
 * The MikroORM half of the module's ORM wiring (the TypeORM half: orm-wiring.test.ts). It runs in
 * the NestJS legs (MikroORM 6 with NestJS 10 and 12) and in the mikro7 leg (MikroORM 7 and
 * @mikro-orm/nestjs 7, NestJS 11), so it spells what differs through test/mikro-orm/support/versions.ts.
 */

@CacheTags((book: Book) => [`Book_${book.id}`])
@Entity()
class Book {
  @PrimaryKey({ type: 'number' }) id!: number;
  @Property({ type: 'string' }) title!: string;
}

@Injectable()
class Library {
  runs = 0;
  constructor(readonly em: EntityManager) {}

  @Cached(['Book'])
  async titles(): Promise<string[]> {
    this.runs++;
    return (await this.em.fork().find(Book, {}, { orderBy: { id: 'asc' } })).map((book) => book.title);
  }
}

describe('CacheTagsModule wires MikroORM by itself', () => {
  it('installs the integration on the MikroORM of @mikro-orm/nestjs: a flush, a native write and a query-builder write invalidate', async () => {
    @Module({
      imports: [MikroOrmModule.forRoot({ ...sqliteInMemory(), entities: [Book], debug: false }), CacheTagsModule.forRoot({ namespace: `t-${randomUUID()}` })],
      providers: [Library],
    })
    class LibraryModule {}
    const app = await NestFactory.createApplicationContext(LibraryModule, { logger: false, abortOnError: false });
    try {
      await createSchema(app.get(MikroORM));
      const library = app.get(Library);
      assert.deepEqual(await library.titles(), []);
      const em = library.em.fork();
      await em.persist(em.create(Book, { title: 'Dune' })).flush();
      assert.deepEqual(await library.titles(), ['Dune']);
      await library.em.fork().nativeUpdate(Book, { title: 'Dune' }, { title: 'Dune Messiah' });
      assert.deepEqual(await library.titles(), ['Dune Messiah']);
      await (library.em.fork() as SqlEntityManager).createQueryBuilder(Book).update({ title: 'Children of Dune' }).where({ id: 1 }).execute();
      assert.deepEqual(await library.titles(), ['Children of Dune']);
      await library.titles();
      assert.equal(library.runs, 4, 'served from the cache when nothing was written');
    } finally {
      await app.close();
    }
  });
});

@CacheTags((book: Shelved) => [`Shelved_${book.id}`, `Shelf_${book.shelf}`])
@Entity()
class Shelved {
  @PrimaryKey({ type: 'number' }) id!: number;
  @Property({ type: 'number' }) shelf!: number;
  @Property({ type: 'string' }) title!: string;
}

@Injectable()
class Shelves {
  runs = 0;
  constructor(readonly em: EntityManager) {}

  /** Declares no tags: it depends on the books it loads. */
  @Cached()
  async titles(shelf: number): Promise<string[]> {
    this.runs++;
    return (await this.em.fork().find(Shelved, { shelf }, { orderBy: { id: 'asc' } })).map((book) => book.title);
  }
}

describe('CacheTagsModule with a MikroORM configured through defineCacheTagsConfig', () => {
  it('keeps its one subscriber: an insert is invalidated exactly once, and loads are tracked', async () => {
    const logger = { warn: () => undefined, error: () => undefined };
    @Module({
      imports: [
        MikroOrmModule.forRoot(defineCacheTagsConfig({ ...sqliteInMemory(), entities: [Shelved], debug: false }, { trackLoads: true, logger })),
        CacheTagsModule.forRoot({ namespace: `t-${randomUUID()}`, maxRowsPerWrite: 7 }),
      ],
      providers: [Shelves],
    })
    class ShelvesModule {}
    const app = await NestFactory.createApplicationContext(ShelvesModule, { logger: false, abortOnError: false });
    try {
      const orm = app.get(MikroORM);
      await createSchema(orm);
      const subscribers = [...orm.em.getEventManager().getSubscribers()].filter((s): s is MikroSubscriber => s instanceof MikroSubscriber);
      assert.equal(subscribers.length, 1);
      assert.deepEqual(subscribers[0].options, { cache: app.get(TagCache), logger, trackLoads: true, maxRowsPerWrite: 7, cascadeDepth: 8 }, 'the module switched the cache and its option, and kept the config\'s logger');
      const shelves = app.get(Shelves);
      await orm.em.fork().insert(Shelved, { id: 1, shelf: 1, title: 'Dune' });
      assert.deepEqual(await shelves.titles(1), ['Dune']);
      const events: string[][] = [];
      app.get(TagCache).on('invalidate', ({ tags }) => events.push([...tags].sort()));
      const em = shelves.em.fork();
      await em.persist(em.create(Shelved, { id: 2, shelf: 1, title: 'Emma' })).flush();
      assert.deepEqual(events, [['Shelf_1', 'Shelved', 'Shelved_2']], 'one invalidation for one insert');
      assert.deepEqual(await shelves.titles(1), ['Dune', 'Emma'], 'the tracked load of book 1 brought Shelf_1');
      assert.equal(shelves.runs, 2);
    } finally {
      await app.close();
    }
  });
});
