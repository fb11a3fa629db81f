import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { CacheTags, TagCache } from '../../lib/index.js';
import type { MikroOrmWriteSource } from '../../lib/mikro-orm/index.js';
import { databaseCases, openOrm } from './support/orm.js';
import { Entity, PrimaryKey, Property } from './support/versions.js';

/** A tag function with a bug: it throws for one title. */
@CacheTags((memo: Memo) => {
  if (memo.title === 'boom') throw new Error('tag function broke on boom');
  return [`Memo_${memo.id}`, `Owner_${memo.owner}_memos`];
})
@Entity()
class Memo {
  @PrimaryKey({ type: 'number' }) id!: number;
  @Property({ type: 'string' }) title!: string;
  @Property({ type: 'number' }) owner!: number;
}

/*
 * A tag function that throws runs after the write reached the database: the write is kept, the
 * entity's type-level tag (and the tags of rows whose function worked) are invalidated, and the
 * failure is reported. Before, these writes returned an error with nothing invalidated.
 */
for (const db of databaseCases) {
  describe(`MikroORM: a throwing tag function never leaves the cache stale, on ${db.name}`, { skip: db.skip }, () => {
    let orm: MikroORM;
    let close: () => Promise<void>;
    let cache: TagCache;
    let reader: TagCache;
    const logged: string[] = [];
    const failures: unknown[] = [];
    const em = () => orm.em.fork() as SqlEntityManager;

    before(async () => {
      cache = new TagCache();
      ({ orm, close } = await openOrm(db, { cache, logger: { warn: () => undefined, error: (message) => logged.push(message) } }, { entities: [Memo] }));
      cache.on('invalidate', ({ source }) => failures.push(...((source as MikroOrmWriteSource | undefined)?.tagFunctionFailures ?? [])));
      reader = new TagCache({ store: await cache.store(), namespace: cache.namespace });
    });
    after(async () => {
      await close();
      await cache.close();
    });
    beforeEach(() => {
      logged.length = 0;
      failures.length = 0;
    });

    /** Runs `write`; after it returns, every tag of `changed` has a new version, read through a second cache. */
    async function expectInvalidated(write: () => Promise<unknown>, changed: string[], unchanged: string[] = []): Promise<void> {
      const all = [...changed, ...unchanged];
      const before = await reader.getTagVersions(all);
      await write();
      const now = await reader.getTagVersions(all);
      assert.deepEqual(
        { notInvalidated: changed.filter((t) => now[t] === before[t]), overInvalidated: unchanged.filter((t) => now[t] !== before[t]) },
        { notInvalidated: [], overInvalidated: [] },
      );
      assert.ok(logged.some((m) => m.includes('Memo')), `an error names the entity: ${JSON.stringify(logged)}`);
      assert.ok(failures.length > 0, 'the invalidate event carries the failure');
    }

    it('flush of a new and an updated entity', async () => {
      const m = em();
      const a = m.create(Memo, { id: 1, title: 'a', owner: 1 });
      await m.flush();
      m.create(Memo, { id: 2, title: 'boom', owner: 2 });
      a.title = 'boom';
      await expectInvalidated(() => m.flush(), ['Memo', 'Memo_1', 'Owner_1_memos'], ['Owner_9_memos']);
      assert.equal(await em().count(Memo, { title: 'boom' }), 2);
    });

    it('nativeUpdate, insert and nativeDelete', async () => {
      await expectInvalidated(() => em().insert(Memo, { id: 10, title: 'boom', owner: 3 }), ['Memo']);
      await em().insert(Memo, { id: 11, title: 'fine', owner: 4 });
      await expectInvalidated(() => em().nativeUpdate(Memo, { id: 11 }, { title: 'boom' }), ['Memo', 'Memo_11', 'Owner_4_memos']);
      await expectInvalidated(() => em().nativeDelete(Memo, { id: 10 }), ['Memo']);
      assert.equal(await em().count(Memo, { id: [10, 11] }), 1);
    });

    it('query-builder update and insert', async () => {
      await expectInvalidated(() => em().createQueryBuilder(Memo).insert({ id: 20, title: 'boom', owner: 5 }).execute(), ['Memo']);
      await em().insert(Memo, { id: 21, title: 'fine', owner: 6 });
      await expectInvalidated(() => em().createQueryBuilder(Memo).update({ title: 'boom' }).where({ id: 21 }).execute(), ['Memo', 'Memo_21', 'Owner_6_memos']);
      assert.equal(await em().count(Memo, { id: [20, 21], title: 'boom' }), 2);
    });

    it('inside a transaction: reported, invalidated at the commit', async () => {
      await em().insert(Memo, { id: 30, title: 'fine', owner: 8 });
      await expectInvalidated(() => em().transactional(async (t) => void (await t.nativeUpdate(Memo, { id: 30 }, { title: 'boom' }))), ['Memo', 'Memo_30', 'Owner_8_memos']);
    });
  });
}
