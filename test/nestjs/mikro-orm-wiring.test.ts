import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { EntityManager, MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cached, CacheTags } from '../../lib/index.js';
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
