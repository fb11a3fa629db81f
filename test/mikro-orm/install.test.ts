import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MikroORM } from '@mikro-orm/core';
import { TagCache } from '../../lib/index.js';
import { installCacheTags } from '../../lib/mikro-orm/index.js';
import { databaseCases } from './support/orm.js';

/*
 * installCacheTags turns the entity manager MikroORM made into one that covers native writes (the
 * write-path matrix runs with it). That one must still be of the class the driver chose, with what
 * that class adds: MikroORM 7's PostgreSqlEntityManager has `refreshMaterializedView`.
 */
for (const db of databaseCases) {
  describe(`MikroORM installCacheTags keeps the driver's entity manager class, on ${db.name}`, { skip: db.skip }, () => {
    it('the global entity manager, its forks and transactional forks stay instances of it', async () => {
      const { options, drop } = await db.create();
      const orm = await MikroORM.init({ ...options, allowGlobalContext: true, debug: false });
      const cache = new TagCache();
      try {
        const own = orm.em.constructor as new () => object;
        const methods = Object.getOwnPropertyNames(own.prototype);
        installCacheTags(orm, { cache });
        assert.notEqual(orm.em.constructor, own, 'the entity manager was given the covering class');
        const ems = { global: orm.em, fork: orm.em.fork(), transactional: await orm.em.fork().transactional(async (t) => t) };
        for (const [name, em] of Object.entries(ems)) {
          assert.ok(em instanceof own, `${name}: an instance of ${own.name}`);
          for (const method of methods) assert.equal(typeof (em as unknown as Record<string, unknown>)[method], typeof (own.prototype as Record<string, unknown>)[method], `${name}.${method}`);
        }
        assert.equal(installCacheTags(orm, { cache }), installCacheTags(orm), 'a second call changes nothing');
        assert.equal(orm.em.fork().constructor, orm.em.constructor);
      } finally {
        await orm.close(true);
        await drop();
        await cache.close();
      }
    });
  });
}
