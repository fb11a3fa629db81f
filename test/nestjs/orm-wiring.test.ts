import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getDataSourceToken, InjectRepository, TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import type { DataSource, Repository } from 'typeorm';
import { Cached } from '../../lib/index.js';
import { CacheTagsModule } from '../../lib/nestjs/index.js';
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
