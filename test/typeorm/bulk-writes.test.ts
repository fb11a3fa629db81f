import { before, describe, it } from 'node:test';
import { TagCache } from '../../lib/index.js';
import { installCacheTags } from '../../lib/typeorm/index.js';
import { databaseCases } from './support/databases.js';
import { Photo } from './support/entities.js';
import { useDatabase } from './support/harness.js';
import { seed } from './support/seed.js';

/*
 * A bulk write past `maxRowsPerWrite` (2 here) invalidates the type-level tag instead of each row's
 * tags, so its cost stays bounded whatever the row count; at or below it, the rows' tags.
 */
for (const db of databaseCases) {
  describe(`TypeORM bulk writes past maxRowsPerWrite on ${db.name}`, { skip: db.skip }, () => {
    const h = useDatabase(db, () => new TagCache());
    before(() => void installCacheTags(h.dataSource, { maxRowsPerWrite: 2 }));
    const photos = () => h.dataSource.getRepository(Photo);

    it('an update of more rows than the threshold invalidates the type-level tag, not each row', async () => {
      const s = await seed(h.dataSource);
      await photos().save({ title: 'third', slug: `third-${s.p1.id}`, user: s.u1 });
      await h.probe.expect(() => photos().update({ user: { id: s.u1.id } }, { views: 7 }), {
        changed: ['Photo'],
        unchanged: [`Photo_${s.p1.id}`, `Photo_${s.p3.id}`, `User_${s.u1.id}_photos`],
      });
    });

    it('an update of as many rows as the threshold invalidates each row', async () => {
      const s = await seed(h.dataSource);
      await h.probe.expect(() => photos().update({ user: { id: s.u1.id } }, { views: 8 }), { changed: ['Photo', `Photo_${s.p1.id}`, `Photo_${s.p3.id}`, `User_${s.u1.id}_photos`] });
    });

    it('a bulk delete also invalidates the type-level tags of what its cascades reach', async () => {
      const s = await seed(h.dataSource);
      await h.probe.expect(() => photos().createQueryBuilder().delete().where('id IN (:...ids)', { ids: [s.p1.id, s.p2.id, s.p3.id] }).execute(), {
        changed: ['Photo', 'Comment', 'Tag', 'Note', 'Draft'],
        unchanged: [`Photo_${s.p1.id}`, `Comment_${s.c1.id}`, `Tag_${s.t1.id}`],
      });
    });
  });
}
