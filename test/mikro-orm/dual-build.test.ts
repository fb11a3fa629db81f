import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Utils } from '@mikro-orm/core';
import { exercise, needsDist, prelude, run } from '../support/dual-build.js';

/*
 * Both builds of cache-tags in one process (test/support/dual-build.ts), on the MikroORM of the
 * pass: 6, or 7 in the mikro7 leg, where the CommonJS build loads MikroORM's ES modules through
 * `require` and the ESM build imports them.
 */
describe('the CommonJS and the ESM build in one process, MikroORM', { skip: needsDist }, () => {
  it('query-builder writes invalidate through an ORM wired with either build', () => {
    const out = run(`${prelude('mikro-orm')}
      const { MikroORM, EntitySchema, Utils } = await import('@mikro-orm/core');
      const versions = require(${JSON.stringify(join(__dirname, 'support/versions.js'))});
      const schema = new EntitySchema({ class: Book, properties: { id: { type: 'number', primary: true }, title: { type: 'string' } } });
      const open = async (lib, cache) => {
        const orm = await MikroORM.init({ ...versions.sqliteInMemory(), entities: [schema], allowGlobalContext: true, debug: false });
        await versions.createSchema(orm);
        lib.installCacheTags(orm, { cache });
        return orm;
      };
      const other = await open(cjs, cjsCache);
      const orm = await open(esm, cache);
      await orm.em.insert(Book, { id: 1, title: 'before' });
      const titles = async () => (await orm.em.fork().find(Book, {})).map((b) => b.title);
      const update = () => orm.em.fork().createQueryBuilder(Book).update({ title: 'after' }).where({ id: 1 }).execute();
      ${exercise}
      console.log(Utils.getORMVersion());
      await other.close(); await orm.close();`);
    const [titles, version] = out.split('\n');
    assert.deepEqual(JSON.parse(titles), ['before', 'after']);
    assert.equal(version, Utils.getORMVersion(), 'the child ran on the MikroORM of this pass');
  });
});
