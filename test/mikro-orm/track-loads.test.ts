import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { EntityManager, MikroORM } from '@mikro-orm/core';
import { Cached } from '../../lib/index.js';
import { storeCases } from '../support/stores.js';
import { Photo } from './support/model.js';
import { databaseCases } from './support/orm.js';
import { ormSuite } from './support/suite.js';

/** Declares no tags: what it depends on is learned from the photos it loads. */
class Gallery {
  runs = 0;
  /** Runs once, right after the next computation of `titlesOf` has read its rows. */
  afterRead: (() => Promise<unknown>) | undefined;
  constructor(private readonly orm: MikroORM) {}

  @Cached()
  async titlesOf(userId: number): Promise<string[]> {
    this.runs++;
    const photos = await this.orm.em.fork().find(Photo, { user: userId }, { orderBy: { id: 'asc' } });
    const afterRead = this.afterRead;
    this.afterRead = undefined;
    await afterRead?.();
    return photos.map((p) => p.title);
  }

  @Cached()
  async titlesOnly(userId: number): Promise<string[]> {
    this.runs++;
    return (await this.orm.em.fork().find(Photo, { user: userId }, { fields: ['title'], orderBy: { id: 'asc' } })).map((p) => p.title);
  }
}

/** Reads through one entity manager that outlives a single computation (a request-scoped fork). */
class RequestScoped {
  constructor(private readonly em: EntityManager) {}

  @Cached()
  async title(id: number): Promise<string> {
    return (await this.em.findOneOrFail(Photo, id)).title;
  }
}

for (const db of databaseCases) {
  for (const store of storeCases) {
    describe(`MikroORM tracked loads, ${db.name} + ${store.name} store`, { skip: db.skip || store.skip }, () => {
      // The integration's default (the shared suite turns tracking off for the suites that count declared tags).
      const suite = ormSuite(db, store, { subscriber: { trackLoads: undefined } });
      let gallery: Gallery;
      const stale: string[] = [];

      beforeEach(() => {
        gallery = new Gallery(suite.orm);
        stale.length = 0;
        suite.cache.on('stale', ({ reason }) => stale.push(reason));
      });

      it('a method with no declared tags is invalidated when the ORM updates a photo it loaded', async () => {
        assert.deepEqual(await gallery.titlesOf(1), ['beach', 'forest']);
        assert.deepEqual(await gallery.titlesOf(1), ['beach', 'forest']);
        assert.equal(gallery.runs, 1, 'stored with the tags of the loaded photos');

        const em = suite.orm.em.fork();
        (await em.findOneOrFail(Photo, 2)).title = 'pines';
        await em.flush();

        assert.deepEqual(await gallery.titlesOf(1), ['beach', 'pines']);
        assert.equal(gallery.runs, 2);
      });

      it('a new photo of the same user invalidates it through a loaded photo\'s list tag; a photo it did not load does not', async () => {
        await gallery.titlesOf(1);
        await suite.orm.em.fork().nativeUpdate(Photo, { id: 3 }, { title: 'town' });
        assert.deepEqual(await gallery.titlesOf(1), ['beach', 'forest']);
        assert.equal(gallery.runs, 1, 'photo 3 (user 2) was not loaded: still a hit');

        await suite.orm.em.fork().insert(Photo, { id: 9, title: 'lake', user: 1 });
        assert.deepEqual(await gallery.titlesOf(1), ['beach', 'forest', 'lake']);
      });

      it('right after a write of a loaded row, the value computed next is stored: the write returned before it began', async () => {
        await suite.orm.em.fork().nativeUpdate(Photo, { id: 1 }, { title: 'dune' });
        assert.deepEqual(await gallery.titlesOf(1), ['dune', 'forest']);
        assert.deepEqual(await gallery.titlesOf(1), ['dune', 'forest']);
        assert.deepEqual(stale, []);
        assert.equal(gallery.runs, 1, 'stored at once: no clock margin to wait out');
      });

      it('a write of a loaded row that lands while the rows are read keeps the value out of the cache', async () => {
        gallery.afterRead = () => suite.orm.em.fork().nativeUpdate(Photo, { id: 2 }, { title: 'pines' });
        assert.deepEqual(await gallery.titlesOf(1), ['beach', 'forest']);
        assert.deepEqual(stale, ['invalidated-during-computation']);
        assert.deepEqual(await gallery.titlesOf(1), ['beach', 'pines']);
        assert.equal(gallery.runs, 2, 'the value read before the write was not served again');
      });

      it('an entity already in the identity map of the fork it is read from adds no tags (MikroORM fires no onLoad)', async () => {
        const em = suite.orm.em.fork();
        await em.findOneOrFail(Photo, 1);
        const stored: string[][] = [];
        suite.cache.on('set', ({ tags }) => stored.push([...tags]));
        assert.equal(await new RequestScoped(em).title(1), 'beach');
        assert.deepEqual(stored, [[]]);
      });

      it('a partially loaded photo (fields narrowed) adds no tags: its own would be wrong', async () => {
        const stored: string[][] = [];
        suite.cache.on('set', ({ tags }) => stored.push([...tags].sort()));
        assert.deepEqual(await gallery.titlesOnly(1), ['beach', 'forest']);
        assert.deepEqual(await gallery.titlesOf(1), ['beach', 'forest']);
        assert.deepEqual(stored, [[], ['Photo_1', 'Photo_2', 'User_1_photos']]);
      });
    });
  }
}

describe('MikroORM with trackLoads: false', () => {
  const suite = ormSuite(databaseCases[0], storeCases[0], { subscriber: { trackLoads: false } });

  it('a load inside a cached computation adds no tags: a write of the loaded photo does not reach the value', async () => {
    const gallery = new Gallery(suite.orm);
    const stored: string[][] = [];
    suite.cache.on('set', ({ tags }) => stored.push([...tags]));
    assert.deepEqual(await gallery.titlesOf(1), ['beach', 'forest']);
    await suite.orm.em.fork().nativeUpdate(Photo, { id: 2 }, { title: 'pines' });
    assert.deepEqual(await gallery.titlesOf(1), ['beach', 'forest']);
    assert.deepEqual(stored, [[]]);
  });
});
