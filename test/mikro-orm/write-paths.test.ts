import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { TagCache, setDefaultTagCache } from '../../lib/index.js';
import { databaseCases, openOrm } from './support/orm.js';
import { PhotoService, PhotoSource, seed } from './support/service.js';
import { writePaths } from './support/write-paths.js';

for (const db of databaseCases) {
  describe(`MikroORM write paths on ${db.name}`, { skip: db.skip }, () => {
    let orm: MikroORM;
    let close: () => Promise<void>;
    let svc: PhotoService;

    before(async () => ({ orm, close } = await openOrm(db)));
    after(() => close?.());
    beforeEach(async () => {
      await seed(orm);
      setDefaultTagCache(new TagCache({ namespace: `mo-${Math.random()}` }));
      svc = new PhotoService(new PhotoSource(orm));
    });

    for (const row of writePaths) {
      it(`${row.path}: the read after the write returns the new data`, async () => {
        const cached = [];
        for (const read of row.reads) cached.push(await read(svc));
        const calls = svc.source.calls;
        for (const read of row.reads) await read(svc);
        assert.equal(svc.source.calls, calls, 'the second reads are served from the cache');

        await row.write(orm, orm.em.fork() as SqlEntityManager);

        let changed = false;
        for (const [i, read] of row.reads.entries()) {
          const now = await read(svc);
          const fresh = await (read as (s: unknown) => Promise<unknown>)(svc.source);
          assert.deepEqual(now, fresh, `read ${i} after the write is not stale`);
          if (JSON.stringify(fresh) !== JSON.stringify(cached[i])) changed = true;
        }
        assert.ok(changed, 'the write changed what at least one read returns');
      });
    }
  });
}
