import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MikroORM, Entity as MikroEntity, PrimaryKey, Property } from '@mikro-orm/core';
import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import type { DataSource } from 'typeorm';
import { CacheTags, CacheTagsError, TagCache } from '../../lib/index.js';
import * as mikro from '../../lib/mikro-orm/index.js';
import * as typeorm from '../../lib/typeorm/index.js';
import { rowsUnknownTag } from '../../lib/orm/index.js';
import { databaseCases } from './support/databases.js';
import { Photo } from './support/entities.js';

@CacheTags((slide: Slide) => [`Slide_${slide.id}`, `Deck_${slide.deck}`])
@MikroEntity()
class Slide {
  @PrimaryKey({ type: 'number' }) id!: number;
  @Property({ type: 'number' }) deck!: number;
}

/** What the contract test does with one ORM: the same calls, spelled the ORM's way. */
interface Integration {
  name: string;
  install(options: unknown): { options: unknown };
  subscriberCount(): number;
  /** One single-row update through the ORM. */
  write(id: number): Promise<unknown>;
  invalidateEntities(entity: unknown, ids?: unknown): Promise<string[]>;
  entity: unknown;
  rowTag(id: number): string;
  /** What a write of unknown rows of `entity` invalidates: its type-level tag, and the relation tags of the collections it is a member of. */
  unknownRowTags: string[];
}

const sqlite = databaseCases[0];

/*
 * One contract for both ORM integrations (docs/orm-contract.md): the same names, option shapes,
 * defaults and errors, and `invalidateEntities(target, Entity, ids?)` in both.
 */
describe('one contract for the TypeORM and MikroORM integrations', () => {
  let dataSource: DataSource;
  let drop: () => Promise<void>;
  let orm: MikroORM;
  const cache = new TagCache();
  const integrations: Integration[] = [];

  before(async () => {
    ({ dataSource, drop } = await sqlite.open());
    const photo = await dataSource.getRepository(Photo).save({ title: 'a', slug: 'contract-a' });
    integrations.push({
      name: 'typeorm',
      install: (options) => typeorm.installCacheTags(dataSource, options as never),
      subscriberCount: () => dataSource.subscribers.filter((s) => s instanceof typeorm.CacheTagsSubscriber).length,
      write: () => dataSource.getRepository(Photo).update({ id: photo.id }, { title: `t${Math.random()}` }),
      invalidateEntities: (entity, ids) => typeorm.invalidateEntities(dataSource.manager, entity as never, ids as never),
      entity: Photo,
      rowTag: () => `Photo_${photo.id}`,
      unknownRowTags: ['Photo', 'User.photos'],
    });
    orm = await MikroORM.init(mikro.defineCacheTagsConfig({ driver: BetterSqliteDriver, dbName: ':memory:', entities: [Slide], allowGlobalContext: true }, { cache }));
    await orm.schema.createSchema();
    await orm.em.fork().insert(Slide, { id: 1, deck: 1 });
    integrations.push({
      name: 'mikro-orm',
      install: (options) => mikro.installCacheTags(orm, options as never),
      subscriberCount: () => [...orm.em.getEventManager().getSubscribers()].filter((s) => s instanceof mikro.CacheTagsSubscriber).length,
      write: () => orm.em.fork().nativeUpdate(Slide, { id: 1 }, { deck: 1 }),
      invalidateEntities: (entity, ids) => mikro.invalidateEntities(orm.em.fork(), entity as never, ids as never),
      entity: Slide,
      rowTag: () => 'Slide_1',
      unknownRowTags: ['Slide'],
    });
  });
  after(async () => {
    await drop();
    await orm.close(true);
    await cache.close();
  });

  /** A test that runs for each integration in turn. */
  function each(title: string, fn: (i: Integration) => Promise<void> | void): void {
    it(title, async () => {
      for (const integration of integrations) await fn(integration);
    });
  }

  each('bad options fail with the same CacheTagsError, naming the option, in both', (i) => {
    const cases: Array<[unknown, RegExp]> = [
      [{ cache: 5 }, /installCacheTags: option cache must be a TagCache or the name of a registered one, got number 5/],
      [{ maxRowsPerWrite: 0 }, /installCacheTags: option maxRowsPerWrite must be an integer ≥ 1, got number 0/],
      [{ cascadeDepth: -1 }, /installCacheTags: option cascadeDepth must be an integer ≥ 0/],
      [{ trackLoad: true }, /installCacheTags: unknown option trackLoad \(known: cache, logger, trackLoads, maxRowsPerWrite, cascadeDepth\)/],
      [{ logger: {} }, /installCacheTags: option logger must be an object with a warn method/],
      ['cache', /installCacheTags: options must be an object/],
    ];
    for (const [options, message] of cases) {
      assert.throws(() => i.install(options), (e: unknown) => e instanceof CacheTagsError && e.code === 'E_INVALID_OPTION' && message.test(e.message), `${i.name}: ${JSON.stringify(options)}`);
    }
  });

  each('installing twice keeps one subscriber with the same defaults, and a write invalidates once', async (i) => {
    i.install({ cache });
    const subscriber = i.install({ cache });
    assert.equal(i.subscriberCount(), 1, i.name);
    assert.deepEqual(subscriber.options, { cache, logger: undefined, trackLoads: true, maxRowsPerWrite: 1000, cascadeDepth: 8 }, i.name);
    const events: unknown[] = [];
    const off = cache.on('invalidate', (e) => events.push(e));
    await i.write(1);
    off();
    assert.equal(events.length, 1, `${i.name}: one invalidation per write`);
  });

  each('a second install switches the options it gives and keeps the others', (i) => {
    const subscriber = i.install({ cache, cascadeDepth: 2 });
    i.install({ maxRowsPerWrite: 50 });
    assert.deepEqual(subscriber.options, { cache, logger: undefined, trackLoads: true, maxRowsPerWrite: 50, cascadeDepth: 2 }, i.name);
    i.install({ maxRowsPerWrite: 1000, cascadeDepth: 8 });
  });

  each('invalidateEntities(target, Entity, ids) works in both: the row tags and the type-level tag', async (i) => {
    const name = (i.entity as Function).name;
    const tags = await i.invalidateEntities(i.entity, [1]);
    // A bare key says nothing of the row's old values: the query cache's rows-unknown tag goes too (docs/query-cache.md).
    assert.ok(tags.includes(i.rowTag(1)) && tags.includes(name) && tags.includes(rowsUnknownTag(name)), `${i.name}: ${tags.join(', ')}`);
    // Without ids the rows are not known: the type-level tag, the rows-unknown tag,
    // and the relation tags of the collections the entity is a member of (docs/orm-contract.md, "Collection tags").
    const typeWide = await i.invalidateEntities(i.entity);
    assert.ok(typeWide.includes(name) && typeWide.every((tag) => tag === name || tag === rowsUnknownTag(name) || i.unknownRowTags.includes(tag)), `${i.name}: ${typeWide.join(', ')}`);
    assert.ok(i.unknownRowTags.every((tag) => typeWide.includes(tag)), `${i.name}: ${typeWide.join(', ')}`);
  });

  each('invalidateEntities with the entity list form fails, saying which shape to use', async (i) => {
    await assert.rejects(i.invalidateEntities([i.entity]), /the second argument is the entity class, not an array; write invalidateEntities\(em, Photo, \[photo.id\]\)/, i.name);
    await assert.rejects(i.invalidateEntities(i.entity, 1), /ids must be an array of primary keys or entities, got number 1/, i.name);
    await assert.rejects(i.invalidateEntities(class Unmapped {}), /Unmapped is not an entity of this ORM/, i.name);
  });
});
