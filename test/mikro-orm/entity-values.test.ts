import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wrap, type MikroORM } from '@mikro-orm/core';
import { Cached, CacheTagsError } from '../../lib/index.js';
import { CacheTags } from '../../lib/mikro-orm/index.js';
import { storeCases } from '../support/stores.js';
import { Comment, Photo, entities } from './support/model.js';
import { databaseCases } from './support/orm.js';
import { ormSuite } from './support/suite.js';
import { Entity, ManyToOne, PrimaryKey, Property } from './support/versions.js';

/* Entities with no Collection and no Reference wrapper: what a cached managed entity can hold. */

@CacheTags((a: Album) => [`Album_${a.id}`])
@Entity()
class Album {
  @PrimaryKey({ type: 'number' }) id!: number;
  @Property({ type: 'string' }) name!: string;
}

@CacheTags((t: Track) => [`Track_${t.id}`])
@Entity()
class Track {
  @PrimaryKey({ type: 'number' }) id!: number;
  @Property({ type: 'string' }) title!: string;
  @Property({ type: 'datetime' }) releasedAt!: Date;
  @ManyToOne(() => Album) album!: Album;
}

/** Returns what MikroORM loads, as a service that caches entities would. */
class Catalog {
  runs = 0;
  constructor(private readonly orm: MikroORM) {}

  @Cached({ tags: (id: number) => [`Track_${id}`] })
  async track(id: number, populate: boolean): Promise<Track> {
    this.runs++;
    return this.orm.em.fork().findOneOrFail(Track, id, { populate: populate ? ['album'] : [] });
  }

  @Cached({ tags: (id: number) => [`Photo_${id}`] })
  photo(id: number): Promise<Photo> {
    return this.orm.em.fork().findOneOrFail(Photo, id);
  }

  @Cached({ tags: (id: number) => [`Comment_${id}`] })
  comment(id: number): Promise<Comment> {
    return this.orm.em.fork().findOneOrFail(Comment, id);
  }

  @Cached({ tags: (id: number) => [`Photo_${id}`] })
  async photoObject(id: number) {
    this.runs++;
    return wrap(await this.orm.em.fork().findOneOrFail(Photo, id, { populate: ['tags'] })).toObject();
  }
}

const released = new Date('2020-05-01T10:00:00.000Z');

for (const store of storeCases) {
  describe(`MikroORM entities as cached values, ${store.name} store`, { skip: store.skip }, () => {
    const suite = ormSuite(databaseCases[0], store, { orm: { entities: [...entities, Album, Track] } });
    const catalog = () => new Catalog(suite.orm);

    async function addTrack(): Promise<void> {
      const em = suite.orm.em.fork();
      em.create(Track, { id: 1, title: 'Intro', releasedAt: released, album: em.create(Album, { id: 1, name: 'First' }) });
      await em.flush();
    }

    it('an entity with columns and a many-to-one (not loaded) round-trips: same class, Date, the reference with its key', async () => {
      await addTrack();
      const c = catalog();
      const miss = await c.track(1, false);
      const hit = await c.track(1, false);
      assert.equal(c.runs, 1);
      assert.ok(hit instanceof Track && hit.album instanceof Album);
      assert.deepEqual({ id: hit.id, title: hit.title, releasedAt: hit.releasedAt, album: hit.album.id }, { id: 1, title: 'Intro', releasedAt: released, album: 1 });
      assert.deepEqual(hit, miss);
      assert.equal(wrap(hit, true).__managed, undefined, 'a hit is detached: no entity manager tracks it');
    });

    it('a populated many-to-one round-trips with its columns', async () => {
      await addTrack();
      const c = catalog();
      await c.track(1, true);
      const hit = await c.track(1, true);
      assert.equal(c.runs, 1);
      assert.equal(hit.album.name, 'First');
    });

    it('an entity holding a Collection fails with E_UNSERIALIZABLE_VALUE naming the Collection and its path', async () => {
      await assert.rejects(catalog().photo(1), (err: unknown) => {
        assert.ok(err instanceof CacheTagsError);
        assert.equal(err.code, 'E_UNSERIALIZABLE_VALUE');
        assert.match(err.message, /Catalog\.photo/);
        assert.match(err.message, /instance of Collection.* at result\.tags/);
        return true;
      });
    });

    it('an entity holding a Reference (ref: true) fails the same way, naming result.photo', async () => {
      await assert.rejects(catalog().comment(1), (err: unknown) => {
        assert.ok(err instanceof CacheTagsError && err.code === 'E_UNSERIALIZABLE_VALUE');
        assert.match(err.message, /instance of Reference.* at result\.photo/);
        return true;
      });
    });

    it('wrap(entity).toObject() of an entity with collections round-trips', async () => {
      const c = catalog();
      const miss = await c.photoObject(2);
      assert.deepEqual(await c.photoObject(2), miss);
      assert.equal(c.runs, 1);
      assert.deepEqual(miss.tags.map((t) => t.name).sort(), ['blue', 'red']);
    });
  });
}
