import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getDataSourceToken, InjectRepository, TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions, type Repository } from 'typeorm';
import { Cached, TagCache, type CacheTagsLogger } from '../../lib/index.js';
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

