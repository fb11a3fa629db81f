import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Column, Entity, In, IsNull, MoreThan, PrimaryGeneratedColumn, Raw, type DataSource } from 'typeorm';
import { CacheTags, TagCache } from '../../lib/index.js';
import { CacheTagsSubscriber, cachedQuery, installCacheTags, invalidateEntities } from '../../lib/typeorm/index.js';
import { storeCases } from '../support/stores.js';
import { databaseCases } from './support/databases.js';
import { Author, Label, Link, Media, Setting, Shot, queryEntities } from './support/query-entities.js';
import { QueryCounter } from './support/query-counter.js';

/*
 * The query cache's rules (docs/query-cache.md), each as: a cached query; a write that must not
 * invalidate it (the next call is still a hit: no statement reaches the database); a write that
 * must (the next call runs the query and returns the new data). On SQLite, PostgreSQL, MariaDB.
 */
const [memory, redis] = storeCases;
// Every database with the in-process store; SQLite with Redis too, whose ordering judges the learned tags.
const cases = [...databaseCases.map((db) => ({ db, store: memory })), { db: databaseCases[0], store: redis }];

for (const { db, store } of cases) {
  describe(`TypeORM query cache on ${db.name}, ${store.name} store`, { skip: db.skip || store.skip }, () => {
    const sql = new QueryCounter();
    let ds: DataSource;
    let drop: () => Promise<void>;
    let cache: TagCache;
    before(async () => {
      ({ dataSource: ds, drop } = await db.open({ entities: queryEntities, logger: sql }));
      cache = store.make();
      installCacheTags(ds, { cache });
    });
    after(async () => {
      await drop();
      await cache.close();
    });
    const shots = () => ds.getRepository(Shot);
    const authors = () => ds.getRepository(Author);
    let round = 0;
    /** Two authors with shots of their own (names unique per test: one database serves them all). */
    async function seed() {
      const n = ++round;
      const [ann, bob, cid] = await authors().save([{ username: `ann${n}` }, { username: `bob${n}` }, { username: `cid${n}` }]);
      const [sea, sky] = await ds.getRepository(Label).save([{ name: `sea${n}` }, { name: `sky${n}` }]);
      const [a1, a2, b1] = await shots().save([
        { title: 'a1', status: 2, author: ann, labels: [sea] },
        { title: 'a2', status: 3, author: ann, labels: [] },
        { title: 'b1', status: 2, author: bob, labels: [sky] },
      ]);
      return { n, ann, bob, cid, sea, sky, a1, a2, b1 };
    }
    const titles = (list: Shot[]) => list.map((s) => s.title).sort();

    it('rule 1: a returned row updated or deleted invalidates; a row not returned does not', async () => {
      const s = await seed();
      const read = () => shots().find({ where: { labels: { id: s.sea.id } }, cache: true });
      assert.deepEqual(titles(await sql.miss(read)), ['a1']);
      await sql.hit(read);
      await shots().update(s.b1.id, { title: 'b1 renamed' });
      await sql.hit(read, 'b1 is not in the result');
      await shots().update(s.a1.id, { title: 'a1 renamed' });
      assert.deepEqual(titles(await sql.miss(read)), ['a1 renamed']);
      await shots().delete(s.a1.id);
      assert.deepEqual(titles(await sql.miss(read)), []);
    });

    it('rule 1: a hit revives entity instances, relations included', async () => {
      const s = await seed();
      const read = () => shots().findOne({ where: { id: s.a1.id }, relations: { author: true, labels: true }, cache: true });
      await sql.miss(read);
      const hit = await sql.hit(read);
      assert.ok(hit instanceof Shot && hit.author instanceof Author && hit.labels![0] instanceof Label);
      assert.equal(hit.author.username, s.ann.username);
    });

    it('rule 1: a loaded relation row changed invalidates; another row of its entity does not', async () => {
      const s = await seed();
      const read = () => shots().findOne({ where: { id: s.a1.id }, relations: { author: true }, cache: true });
      await sql.miss(read);
      await authors().update(s.bob.id, { bio: 'other' });
      await sql.hit(read, 'bob is not loaded');
      await authors().update(s.ann.id, { bio: 'changed' });
      assert.equal((await sql.miss(read))?.author?.bio, 'changed');
    });

    it('rule 1: a to-many relation loaded is invalidated by a new related row, even when it was empty', async () => {
      const s = await seed();
      const read = () => authors().findOne({ where: { id: s.cid.id }, relations: { shots: true }, cache: true });
      assert.deepEqual((await sql.miss(read))?.shots, []);
      await shots().save({ title: 'b2', author: s.bob });
      await sql.hit(read, 'a shot of bob');
      await shots().save({ title: 'c1', author: s.cid });
      assert.deepEqual(titles((await sql.miss(read))!.shots!), ['c1']);
    });

    it('rule 2: a row inserted, updated or deleted whose old or new values match the equalities', async () => {
      const s = await seed();
      const read = () => shots().find({ where: { authorId: s.ann.id, status: 2 }, cache: true });
      assert.deepEqual(titles(await sql.miss(read)), ['a1']);
      await shots().save({ title: 'b2', status: 3, author: s.bob });
      await sql.hit(read, 'a shot of bob with status 3');
      await shots().save({ title: 'a3', status: 2, author: s.ann });
      assert.deepEqual(titles(await sql.miss(read)), ['a1', 'a3']);
      await shots().update(s.a1.id, { title: 'a1 renamed' });
      assert.deepEqual(titles(await sql.miss(read)), ['a1 renamed', 'a3'], 'a returned row changed: its watched field tag covers it');
      await shots().update(s.a1.id, { title: 'a1' });
      await sql.miss(read);
      await shots().update(s.b1.id, { authorId: s.ann.id });
      assert.deepEqual(titles(await sql.miss(read)), ['a1', 'a3', 'b1'], 'moved in (new value)');
      await shots().update(s.b1.id, { authorId: s.bob.id });
      assert.deepEqual(titles(await sql.miss(read)), ['a1', 'a3'], 'moved out (old value)');
    });

    it('rule 3: invalidateOn narrows the fields that count', async () => {
      const s = await seed();
      const read = () => cachedQuery(shots(), 'find', { where: { authorId: s.ann.id, status: 2 } }, { invalidateOn: ['status'] });
      await sql.miss(read);
      await shots().save({ title: 'a3', status: 3, author: s.ann });
      await sql.hit(read, 'status 3: authorId does not count');
      await shots().save({ title: 'b2', status: 2, author: s.bob });
      await sql.miss(read);
      await assert.rejects(cachedQuery(shots(), 'find', {}, { invalidateOn: ['title'] }), /invalidateOn: title is not a condition field of Shot/);
    });

    it('rule 4: In() acts as several values, IsNull() as a value', async () => {
      const s = await seed();
      const inList = () => shots().find({ where: { authorId: In([s.ann.id, s.bob.id]) }, cache: true });
      const orphans = () => shots().find({ where: { author: IsNull() }, cache: { id: 'orphans', milliseconds: 60_000 } });
      await sql.miss(inList);
      await sql.miss(orphans);
      await shots().save({ title: 'c1', author: s.cid });
      await sql.hit(inList, 'cid is not in the list');
      await sql.hit(orphans, 'c1 has an author');
      await shots().save({ title: 'b2', author: s.bob });
      assert.equal((await sql.miss(inList)).length, 4);
      await shots().save({ title: 'loose' });
      await sql.hit(inList, 'a shot of nobody');
      assert.ok((await sql.miss(orphans)).some((shot) => shot.title === 'loose'));
    });

    it('rule 5: conditions through a many-to-one relation: the related row and the owning side', async () => {
      const s = await seed();
      const byName = () => shots().find({ where: { author: { username: s.ann.username.toUpperCase() } }, cache: true });
      const byId = () => shots().find({ where: { author: { id: s.ann.id } }, cache: true });
      await sql.miss(byName);
      await sql.miss(byId);
      await authors().update(s.bob.id, { username: `bobby${s.n}` });
      await sql.hit(byName, 'another author renamed');
      await shots().save({ title: 'b2', author: s.bob });
      await sql.hit(byId, 'author.id is the join column: a shot of bob does not count');
      await authors().update(s.ann.id, { username: `anne${s.n}` });
      await sql.miss(byName);
      await shots().save({ title: 'a3', author: s.ann });
      assert.deepEqual(titles(await sql.miss(byId)), ['a1', 'a2', 'a3']);
    });

    it('rule 5: conditions through a one-to-many relation are watched on the related rows', async () => {
      const s = await seed();
      const read = () => authors().find({ where: { id: In([s.ann.id, s.bob.id, s.cid.id]), shots: { status: 5 } }, cache: true });
      assert.deepEqual(await sql.miss(read), []);
      await shots().save({ title: 'c1', status: 4, author: s.cid });
      await sql.hit(read, 'status 4');
      await shots().update(s.b1.id, { status: 5 });
      assert.deepEqual((await sql.miss(read)).map((a) => a.id), [s.bob.id]);
    });

    it('rule 6: a condition the matcher does not understand falls back to the type-level tag', async () => {
      const s = await seed();
      const ranged = () => shots().find({ where: { views: MoreThan(5) }, cache: true });
      const narrowed = () => shots().find({ where: { authorId: s.ann.id, views: MoreThan(5) }, cache: true });
      await sql.miss(ranged);
      await sql.miss(narrowed);
      await authors().update(s.bob.id, { bio: 'x' });
      await sql.hit(ranged, 'another entity');
      await shots().save({ title: 'b2', views: 9, author: s.bob });
      assert.deepEqual(titles(await sql.miss(ranged)).includes('b2'), true);
      await sql.hit(narrowed, 'the equality on authorId is still watched');
    });

    it('rule 7: count, exists and findAndCount: matching inserts, deletes, and updates moving a row in or out', async () => {
      const s = await seed();
      const count = () => shots().count({ where: { authorId: s.ann.id }, cache: true });
      const exists = () => shots().exists({ where: { authorId: s.cid.id }, cache: true });
      const page = () => shots().findAndCount({ where: { authorId: s.ann.id }, take: 1, order: { id: 'ASC' }, cache: true });
      assert.equal(await sql.miss(count), 2);
      assert.equal(await sql.miss(exists), false);
      await sql.miss(page);
      await shots().save({ title: 'b2', author: s.bob });
      await sql.hit(count);
      await sql.hit(exists);
      await sql.hit(page);
      await shots().update(s.b1.id, { authorId: s.cid.id });
      assert.equal(await sql.miss(exists), true);
      await sql.hit(count, 'b1 moved from bob to cid');
      await shots().update(s.a2.id, { authorId: s.bob.id });
      assert.equal(await sql.miss(count), 1);
      assert.equal((await sql.miss(page))[1], 1);
      await shots().delete(s.a1.id);
      assert.equal(await sql.miss(count), 0);
    });

    it('many-to-many: linking through save and the relation query builder invalidates queries that loaded or filtered on it', async () => {
      const s = await seed();
      const loaded = () => shots().findOne({ where: { id: s.a2.id }, relations: { labels: true }, cache: true });
      const filtered = () => shots().find({ where: { labels: { id: s.sky.id } }, cache: true });
      await sql.miss(loaded);
      assert.deepEqual(titles(await sql.miss(filtered)), ['b1']);
      await ds.createQueryBuilder().relation(Shot, 'labels').of(s.a1.id).remove(s.sea.id);
      await sql.hit(loaded, 'a1 unlabelled');
      await sql.hit(filtered, 'a1 unlabelled sea, not sky');
      await ds.createQueryBuilder().relation(Shot, 'labels').of(s.a2.id).add(s.sky.id);
      assert.equal((await sql.miss(loaded))?.labels?.length, 1);
      assert.deepEqual(titles(await sql.miss(filtered)), ['a2', 'b1']);
      const a2 = await shots().findOneOrFail({ where: { id: s.a2.id }, relations: { labels: true } });
      a2.labels = [];
      await shots().save(a2);
      assert.deepEqual((await sql.miss(loaded))?.labels, []);
      assert.deepEqual(titles(await sql.miss(filtered)), ['b1']);
    });

    it('pagination: a window inside an equality is watched by it; an unfiltered window by the type-level tag', async () => {
      const s = await seed();
      const mine = () => shots().find({ where: { authorId: s.ann.id }, order: { id: 'DESC' }, take: 1, cache: true });
      const all = () => shots().find({ order: { id: 'DESC' }, take: 1, skip: 0, cache: true });
      await sql.miss(mine);
      await sql.miss(all);
      await shots().save({ title: 'b2', author: s.bob });
      await sql.hit(mine);
      assert.deepEqual(titles(await sql.miss(all)), ['b2']);
      await shots().save({ title: 'a3', author: s.ann });
      assert.deepEqual(titles(await sql.miss(mine)), ['a3']);
    });

    it('every write path reaches a precise query of the rows it changes, and spares one of other rows', async () => {
      const s = await seed();
      const mine = () => shots().find({ where: { authorId: s.cid.id }, order: { id: 'ASC' }, cache: true });
      const others = () => shots().find({ where: { authorId: s.bob.id }, cache: true });
      const writes: [string, () => Promise<unknown>][] = [
        ['insert', () => shots().insert({ title: 'c1', authorId: s.cid.id })],
        ['update by criteria', () => shots().update({ authorId: s.cid.id }, { title: 'c1 updated' })],
        ['increment', () => shots().increment({ authorId: s.cid.id }, 'views', 1)],
        ['soft delete', () => shots().softDelete({ authorId: s.cid.id })],
        ['restore', () => shots().restore({ authorId: s.cid.id })],
        ['upsert', async () => shots().upsert({ id: (await shots().findOneByOrFail({ authorId: s.cid.id })).id, title: 'c1 upserted', authorId: s.cid.id }, ['id'])],
        ['query builder update', () => ds.createQueryBuilder().update(Shot).set({ status: 7 }).where('authorId = :id', { id: s.cid.id }).execute()],
        ['remove', async () => shots().remove(await shots().findBy({ authorId: s.cid.id }))],
      ];
      await sql.miss(others);
      for (const [name, write] of writes) {
        await mine();
        await sql.hit(mine, `stored before ${name}`);
        await write();
        await sql.miss(mine, name);
        await sql.hit(others, `${name} changed no shot of bob`);
      }
      assert.deepEqual(await mine(), []);
    });

    it('writes whose rows are not known (raw SQL, bulk writes) invalidate precise queries', async () => {
      const s = await seed();
      const read = () => shots().find({ where: { authorId: s.cid.id }, cache: true });
      await sql.miss(read);
      await ds.query(`INSERT INTO ${db.quote('shot')} (${db.quote('title')}, ${db.quote('authorId')}) VALUES ('raw', ${s.cid.id})`);
      assert.deepEqual(titles(await sql.miss(read)), ['raw']);
      installCacheTags(ds, { maxRowsPerWrite: 1 });
      try {
        await shots().update({ authorId: In([s.ann.id, s.bob.id]) }, { views: 1 });
        await sql.miss(read, 'a bulk write above maxRowsPerWrite');
      } finally {
        installCacheTags(ds, { maxRowsPerWrite: 1000 });
      }
    });

    it('raw SQL into the table of a loaded relation invalidates', async () => {
      const s = await seed();
      const read = () => shots().findOne({ where: { id: s.a1.id }, relations: { author: true }, cache: true });
      await sql.miss(read);
      await ds.query(`UPDATE ${db.quote('author')} SET ${db.quote('bio')} = 'raw' WHERE ${db.quote('id')} = ${s.ann.id}`);
      assert.equal((await sql.miss(read))?.author?.bio, 'raw');
    });

    it('a write no hook sees, reported by invalidateEntities with the bare key, reaches a query on its old value', async () => {
      const s = await seed();
      const read = () => shots().find({ where: { authorId: s.ann.id }, cache: true });
      assert.deepEqual(titles(await sql.miss(read)), ['a1', 'a2']);
      await ds.createQueryBuilder().update(Shot).set({ authorId: s.bob.id }).where('id = :id', { id: s.a1.id }).callListeners(false).execute();
      await invalidateEntities(ds, Shot, [s.a1.id]);
      assert.deepEqual(titles(await sql.miss(read)), ['a2']);
    });

    it('per-entity defaults: byId caches primary-key lookups only; all caches every query', async () => {
      const s = await seed();
      const labels = ds.getRepository(Label);
      await sql.miss(() => labels.findOneBy({ id: s.sea.id }));
      await sql.hit(() => labels.findOneBy({ id: s.sea.id }));
      await sql.hit(() => labels.findOne({ where: { id: s.sea.id } }), 'findOne of the same id is the same query');
      await labels.findBy({ name: s.sea.name });
      await sql.miss(() => labels.findBy({ name: s.sea.name }), 'not a primary-key lookup');
      await sql.miss(() => labels.findOne({ where: { id: s.sea.id }, cache: false }), 'cache: false opts out');
      const settings = ds.getRepository(Setting);
      await settings.save({ key: `k${s.n}`, value: 'v' });
      await sql.miss(() => settings.findBy({ key: `k${s.n}` }));
      await sql.hit(() => settings.findBy({ key: `k${s.n}` }));
      await settings.update({ key: `k${s.n}` }, { value: 'w' });
      assert.equal((await sql.miss(() => settings.findOneBy({ key: `k${s.n}` })))?.value, 'w');
    });

    it('inside a transaction a query is neither served from nor stored in the cache', async () => {
      const s = await seed();
      const read = (m = ds.manager) => m.find(Shot, { where: { authorId: s.ann.id }, cache: true });
      await sql.miss(() => read());
      await ds.transaction(async (m) => {
        await m.save(Shot, { title: 'a3', author: s.ann });
        assert.equal((await sql.miss(() => read(m))).length, 3, 'the transaction sees its own write');
      });
      assert.equal((await sql.miss(() => read())).length, 3);
    });

    it('a cached query inside a @Cached-style computation passes its dependencies up', async () => {
      const s = await seed();
      const outer = () => cache.wrap(`outer:${s.n}`, async () => (await shots().find({ where: { authorId: s.ann.id }, cache: true })).length);
      assert.equal(await sql.miss(outer), 2);
      await shots().save({ title: 'b2', author: s.bob });
      assert.equal(await sql.hit(outer), 2);
      await shots().save({ title: 'a3', author: s.ann });
      assert.equal(await sql.miss(outer), 3);
    });

    it('queries differing only in a value keyed by its content (a URL, a RegExp) get their own results', async () => {
      const s = await seed();
      const links = ds.getRepository(Link);
      const [a, b] = await links.save([{ url: `https://a${s.n}.example/`, pattern: `a${s.n}` }, { url: `https://b${s.n}.example/`, pattern: `b${s.n}` }]);
      const ids = (list: Link[]) => list.map((l) => l.id);
      assert.deepEqual(ids(await sql.miss(() => links.find({ where: { url: new URL(`https://a${s.n}.example/`) } }))), [a.id]);
      assert.deepEqual(ids(await sql.miss(() => links.find({ where: { url: new URL(`https://b${s.n}.example/`) } }))), [b.id], 'another URL');
      await sql.hit(() => links.find({ where: { url: new URL(`https://a${s.n}.example/`) } }), 'the same URL');
      assert.deepEqual(ids(await sql.miss(() => links.find({ where: { pattern: new RegExp(`a${s.n}`) } }))), [a.id]);
      assert.deepEqual(ids(await sql.miss(() => links.find({ where: { pattern: new RegExp(`b${s.n}`) } }))), [b.id], 'another RegExp');
      class Host {
        constructor(readonly name: string) {}
      }
      await assert.rejects(links.find({ where: { url: new Host('a') as never } }), /the query cannot be cached: it holds an object \(Host\) at \.options\.where\.url, whose content a cache key cannot capture/);
    });

    it('a wrong cache option, or a query no key can capture, names what is wrong', async () => {
      await assert.rejects(shots().find({ cache: { ttl: -1 } as never }), /find: option cache: ttl must be an integer number of ms/);
      await assert.rejects(shots().find({ cache: { invalidate: ['x'] } as never }), /unknown cache option invalidate/);
      await assert.rejects(shots().find({ where: { views: Raw((alias) => `${alias} > 1`) }, cache: true }), /the query cannot be cached: it holds a function .* at \.options\.where\.views\.sql/);
      await assert.rejects(ds.getRepository(Media).find({ cache: true }), /cache: Media has the child entity Song, whose writes do not reach queries of Media; decorate Media with @CacheTags/);
      await assert.rejects(cachedQuery(authors(), 'find', {}, { invalidateOn: ['bio'] }), /invalidateOn: bio is not a condition field of Author \(its condition fields: id, username\)/);
    });
  });
}

@CacheTags({ conditionFields: ['nope'] })
@Entity()
class Misdeclared {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) name!: string;
}

describe('a wrong @CacheTags conditionFields', () => {
  it('fails installCacheTags and every cached query of the entity, never a write', async () => {
    const { dataSource, drop } = await databaseCases[0].open({ entities: [Misdeclared] });
    const cache = new TagCache();
    try {
      assert.throws(() => installCacheTags(dataSource, { cache }), /@CacheTags of Misdeclared: conditionFields names nope, which is not a column of the entity/);
      dataSource.subscribers.push(new CacheTagsSubscriber({ cache })); // as when listed in the DataSource's subscribers
      const saved = await dataSource.getRepository(Misdeclared).save({ name: 'x' });
      assert.ok(saved.id > 0);
      await assert.rejects(dataSource.getRepository(Misdeclared).find({ cache: true }), /conditionFields names nope/);
    } finally {
      await drop();
      await cache.close();
    }
  });
});
