import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Entity as MikroEntity, EntityManager, PrimaryKey, Property, MikroORM } from '@mikro-orm/core';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { BetterSqliteDriver as SqliteDriver } from '@mikro-orm/better-sqlite';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getDataSourceToken, InjectRepository, TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions, type Repository } from 'typeorm';
import { Cached, CacheTags, TagCache, type CacheTagsLogger } from '../../lib/index.js';
import { defineCacheTagsConfig, CacheTagsSubscriber as MikroSubscriber } from '../../lib/mikro-orm/index.js';
import { CacheTagsModule, type CacheTagsModuleOptions } from '../../lib/nestjs/index.js';
import { CacheTagsSubscriber } from '../../lib/typeorm/index.js';
import { Photo } from './support/photo-app.js';

@Injectable()
class Gallery {
  runs = 0;
  constructor(
    @InjectRepository(Photo) readonly main: Repository<Photo>,
    @InjectRepository(Photo, 'archive') readonly archive: Repository<Photo>,
  ) {}

  @Cached(['Photo'])
  async titles(): Promise<string[]> {
    this.runs++;
    const rows = [...(await this.main.find()), ...(await this.archive.find())];
    return rows.map((photo) => photo.title);
  }
}

async function createGalleryApp(wireOrm?: boolean) {
  const sqlite: TypeOrmModuleOptions = { type: 'better-sqlite3', database: ':memory:', entities: [Photo], synchronize: true };
  @Module({
    imports: [
      TypeOrmModule.forRoot(sqlite),
      TypeOrmModule.forRoot({ ...sqlite, name: 'archive' }),
      TypeOrmModule.forFeature([Photo]),
      TypeOrmModule.forFeature([Photo], 'archive'),
      CacheTagsModule.forRoot({ namespace: `t-${randomUUID()}`, wireOrm }),
    ],
    providers: [Gallery],
  })
  class GalleryModule {}
  return NestFactory.createApplicationContext(GalleryModule, { logger: false, abortOnError: false });
}

const hasSubscriber = (dataSource: DataSource) => dataSource.subscribers.some((s) => s instanceof CacheTagsSubscriber);

describe('CacheTagsModule wires TypeORM by itself', () => {

  it('installs the integration on every DataSource of the app: a write through any of them invalidates', async () => {
    const app = await createGalleryApp();
    try {
      const gallery = app.get(Gallery);
      assert.deepEqual(await gallery.titles(), []);
      await gallery.main.save({ title: 'main' });
      assert.deepEqual(await gallery.titles(), ['main']);
      await gallery.archive.save({ title: 'archived' });
      assert.deepEqual(await gallery.titles(), ['main', 'archived']);
      await gallery.titles();
      assert.equal(gallery.runs, 3, 'served from the cache when nothing was written');
    } finally {
      await app.close();
    }
  });

  it('leaves the data sources alone with wireOrm: false', async () => {
    const app = await createGalleryApp(false);
    try {
      assert.deepEqual([app.get<DataSource>(getDataSourceToken()), app.get<DataSource>(getDataSourceToken('archive'))].map(hasSubscriber), [false, false]);
    } finally {
      await app.close();
    }
  });
});

@CacheTags((book: Book) => [`Book_${book.id}`])
@MikroEntity()
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

  it('installs the integration on the MikroORM of @mikro-orm/nestjs: a flush invalidates', async () => {
    @Module({
      imports: [
        MikroOrmModule.forRoot({ driver: SqliteDriver, dbName: ':memory:', entities: [Book], debug: false }),
        CacheTagsModule.forRoot({ namespace: `t-${randomUUID()}` }),
      ],
      providers: [Library],
    })
    class LibraryModule {}
    const app = await NestFactory.createApplicationContext(LibraryModule, { logger: false, abortOnError: false });
    try {
      await app.get(MikroORM).schema.createSchema();
      const library = app.get(Library);
      assert.deepEqual(await library.titles(), []);
      const em = library.em.fork();
      await em.persist(em.create(Book, { title: 'Dune' })).flush();
      assert.deepEqual(await library.titles(), ['Dune']);
      await library.em.fork().nativeUpdate(Book, { title: 'Dune' }, { title: 'Dune Messiah' });
      assert.deepEqual(await library.titles(), ['Dune Messiah']);
      await library.titles();
      assert.equal(library.runs, 3, 'served from the cache when nothing was written');
    } finally {
      await app.close();
    }
  });
});

/** A DataSource of the application's own class: neither named `DataSource` nor TypeORM's constructor. */
class TenantStore extends DataSource {}

@Injectable()
class Albums {
  runs = 0;
  constructor(@InjectRepository(Photo) readonly photos: Repository<Photo>) {}

  /** Declares no tags: it depends on what it loads (tracked loads). */
  @Cached()
  async titles(): Promise<string[]> {
    this.runs++;
    return (await this.photos.find({ order: { id: 'ASC' } })).map((photo) => photo.title);
  }
}

/** An app whose one DataSource is a {@link TenantStore}, made by `dataSourceFactory`. */
async function createAlbumsApp(cacheTags: CacheTagsModuleOptions) {
  @Module({
    imports: [
      TypeOrmModule.forRootAsync({
        useFactory: () => ({ type: 'better-sqlite3', database: ':memory:', entities: [Photo], synchronize: true }),
        dataSourceFactory: (options) => new TenantStore(options as DataSourceOptions).initialize(),
      }),
      TypeOrmModule.forFeature([Photo]),
      CacheTagsModule.forRoot({ namespace: `t-${randomUUID()}`, ...cacheTags }),
    ],
    providers: [Albums],
  })
  class AlbumsModule {}
  return NestFactory.createApplicationContext(AlbumsModule, { logger: false, abortOnError: false });
}

/** A logger that keeps what it is given. */
function keepingLogger(): CacheTagsLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (message) => lines.push(message), error: (message) => lines.push(message) };
}

describe('CacheTagsModule hands its ORM options to the integrations', () => {
  it('wires a subclassed DataSource (recognised by its API, not by its class name), and tracks loads by default', async () => {
    const app = await createAlbumsApp({});
    try {
      const dataSource = app.get<DataSource>(getDataSourceToken());
      assert.equal(dataSource.constructor.name, 'TenantStore');
      assert.ok(hasSubscriber(dataSource), 'the subclass got the subscriber');
      const albums = app.get(Albums);
      const photo = await albums.photos.save({ title: 'dune' });
      assert.deepEqual(await albums.titles(), ['dune']);
      assert.deepEqual(await albums.titles(), ['dune']);
      assert.equal(albums.runs, 1);
      await albums.photos.save({ ...photo, title: 'dunes' });
      assert.deepEqual(await albums.titles(), ['dunes'], 'a write of a loaded photo invalidates a method with no declared tags');
    } finally {
      await app.close();
    }
  });

  it('passes trackLoads, maxRowsPerWrite, cascadeDepth and logger to installCacheTags', async () => {
    const logger = keepingLogger();
    const app = await createAlbumsApp({ trackLoads: false, maxRowsPerWrite: 5, cascadeDepth: 2, logger });
    try {
      const subscriber = app.get<DataSource>(getDataSourceToken()).subscribers.find((s): s is CacheTagsSubscriber => s instanceof CacheTagsSubscriber)!;
      assert.deepEqual(subscriber.options, { cache: app.get(TagCache), logger, trackLoads: false, maxRowsPerWrite: 5, cascadeDepth: 2 });
      const albums = app.get(Albums);
      const photo = await albums.photos.save({ title: 'dune' });
      await albums.titles();
      await albums.photos.save({ ...photo, title: 'dunes' });
      assert.deepEqual(await albums.titles(), ['dune'], 'trackLoads: false: the load added no tags, so the write reached nothing');
    } finally {
      await app.close();
    }
  });

  it('rejects a bad ORM option when the module is created, naming it', async () => {
    await assert.rejects(createAlbumsApp({ maxRowsPerWrite: 0 }), /CacheTagsModule: option maxRowsPerWrite must be an integer ≥ 1, got number 0/);
  });
});

@CacheTags((book: Shelved) => [`Shelved_${book.id}`, `Shelf_${book.shelf}`])
@MikroEntity()
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
    const logger = keepingLogger();
    @Module({
      imports: [
        MikroOrmModule.forRoot(defineCacheTagsConfig({ driver: SqliteDriver, dbName: ':memory:', entities: [Shelved], debug: false }, { trackLoads: true, logger })),
        CacheTagsModule.forRoot({ namespace: `t-${randomUUID()}`, maxRowsPerWrite: 7 }),
      ],
      providers: [Shelves],
    })
    class ShelvesModule {}
    const app = await NestFactory.createApplicationContext(ShelvesModule, { logger: false, abortOnError: false });
    try {
      const orm = app.get(MikroORM);
      await orm.schema.createSchema();
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
