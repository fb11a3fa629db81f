import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { TagCache } from '../../lib/index.js';
import { Photo } from './support/model.js';
import { databaseCases, openOrm } from './support/orm.js';
import { seed } from './support/service.js';

/*
 * A bulk write past `maxRowsPerWrite` (1 here) invalidates the type-level tag instead of each row's
 * tags, so its cost stays bounded whatever the row count; at or below it, the rows' tags.
 */
for (const db of databaseCases) {
  describe(`MikroORM bulk writes past maxRowsPerWrite on ${db.name}`, { skip: db.skip }, () => {
    let orm: MikroORM;
    let close: () => Promise<void>;
    const cache = new TagCache();
    let reader: TagCache;
    const em = () => orm.em.fork() as SqlEntityManager;

    before(async () => {
      ({ orm, close } = await openOrm(db, { cache, maxRowsPerWrite: 1 }));
      reader = new TagCache({ store: await cache.store(), namespace: cache.namespace });
    });
    after(async () => {
      await close();
      await cache.close();
    });

    async function expectInvalidated(write: () => Promise<unknown>, changed: string[], unchanged: string[]): Promise<void> {
      await seed(orm);
      const all = [...changed, ...unchanged];
      const was = await reader.getTagVersions(all);
      await write();
      const now = await reader.getTagVersions(all);
      assert.deepEqual(
        { notInvalidated: changed.filter((t) => now[t] === was[t]), overInvalidated: unchanged.filter((t) => now[t] !== was[t]) },
        { notInvalidated: [], overInvalidated: [] },
      );
    }

    it('nativeUpdate of more rows than the threshold: the type-level tag, not each row', () =>
      expectInvalidated(() => em().nativeUpdate(Photo, { user: 1 }, { views: 3 }), ['Photo'], ['Photo_1', 'Photo_2', 'User_1_photos']));

    it('nativeUpdate of one row: its tags', () => expectInvalidated(() => em().nativeUpdate(Photo, { id: 3 }, { views: 3 }), ['Photo', 'Photo_3', 'User_2_photos'], ['Photo_1']));

    it('qb.update() past the threshold: the type-level tag', () =>
      expectInvalidated(() => em().createQueryBuilder(Photo).update({ views: 4 }).where({ user: 1 }).execute(), ['Photo'], ['Photo_1', 'User_1_photos']));

    it('nativeDelete past the threshold: the type-level tags of what its cascades reach too', () =>
      expectInvalidated(() => em().nativeDelete(Photo, { user: 1 }), ['Photo', 'Comment', 'Tag'], ['Photo_1', 'Comment_1', 'Tag_1']));
  });
}
