import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { storeCases, type StoreCase } from '../support/stores.js';
import { databaseCases, type DatabaseCase, type Wiring } from './support/orm.js';
import { ormSuite } from './support/suite.js';
import { writePaths } from './support/write-paths.js';

const memory = storeCases.find((store) => store.name === 'memory')!;

/** Every write path, read → write → read: each read after the write returns the new data. */
function writePathSuite(title: string, db: DatabaseCase, store: StoreCase, wiring: Wiring): void {
  describe(title, { skip: db.skip || store.skip }, () => {
    const suite = ormSuite(db, store, { wiring });

    for (const row of writePaths) {
      it(`${row.path}: the read after the write returns the new data`, async () => {
        const { orm, svc } = suite;
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

for (const db of databaseCases) {
  for (const store of storeCases) writePathSuite(`MikroORM write paths, ${db.name} + ${store.name} store`, db, store, 'defineCacheTagsConfig');
  // Wired into the initialised ORM, whose entity manager is the driver's own class (7's PostgreSqlEntityManager on PostgreSQL).
  writePathSuite(`MikroORM write paths wired by installCacheTags, ${db.name} + memory store`, db, memory, 'installCacheTags');
}
