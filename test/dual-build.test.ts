/*
 * The CommonJS and the ESM build in one process (test/support/dual-build.ts); the MikroORM case is
 * test/mikro-orm/dual-build.test.ts, which the MikroORM 7 leg runs too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exercise, needsDist, prelude, run } from './support/dual-build.js';

describe('the CommonJS and the ESM build in one process', { skip: needsDist }, () => {
  it('TypeORM query-builder writes invalidate through a data source wired with either build', () => {
    const out = run(`${prelude('typeorm')}
      const { DataSource, EntitySchema } = await import('typeorm');
      const schema = new EntitySchema({ name: 'Book', target: Book, columns: { id: { type: Number, primary: true }, title: { type: String } } });
      const open = async (lib, cache) => {
        const dataSource = await new DataSource({ type: 'better-sqlite3', database: ':memory:', entities: [schema], synchronize: true }).initialize();
        lib.installCacheTags(dataSource, { cache });
        return dataSource;
      };
      const other = await open(cjs, cjsCache);
      const dataSource = await open(esm, cache);
      await dataSource.getRepository(Book).insert({ id: 1, title: 'before' });
      const titles = async () => (await dataSource.getRepository(Book).find()).map((b) => b.title);
      const update = () => dataSource.createQueryBuilder().update(Book).set({ title: 'after' }).where('id = :id', { id: 1 }).execute();
      ${exercise}
      await other.destroy(); await dataSource.destroy();`);
    assert.deepEqual(JSON.parse(out), ['before', 'after']);
  });
});
