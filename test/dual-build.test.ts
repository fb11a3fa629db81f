/*
 * An application can load both builds of cache-tags in one process: its own ESM code imports one,
 * a CommonJS dependency (a Nest module, a plugin) requires the other. Query-builder writes through
 * an ORM wired with either build must still invalidate. Runs the built package (dist/) in a child
 * process, each ORM on SQLite in memory.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(__dirname, '..', '..');
const run = (code: string) => execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' }).trim();

/** Loads the CommonJS build first (it patches the ORM's prototypes first), then wires an ORM with the ESM build. */
const prelude = (subpath: string) => `
  import { createRequire } from 'node:module';
  const require = createRequire(process.cwd() + '/');
  const cjs = require('cache-tags/${subpath}');
  const esm = await import('cache-tags/${subpath}');
  const { TagCache } = await import('cache-tags');
  const cjsCache = new (require('cache-tags').TagCache)();
  const cache = new TagCache();
  class Book {}
`;

/** Reads the titles through the cache, writes with the query builder, reads again. */
const exercise = `
  const read = () => cache.wrap('titles', async () => (await titles()).join(','), { tags: [esm.tagForType(Book)] });
  const before = await read();
  await update();
  console.log(JSON.stringify([before, await read()]));
`;

describe('the CommonJS and the ESM build in one process', { skip: existsSync(join(root, 'dist/cjs/index.js')) ? false : 'dist/ is not built (npm run build)' }, () => {
  it('MikroORM query-builder writes invalidate through an ORM wired with either build', () => {
    const out = run(`${prelude('mikro-orm')}
      const { MikroORM, EntitySchema } = await import('@mikro-orm/core');
      const { BetterSqliteDriver } = await import('@mikro-orm/better-sqlite');
      const schema = new EntitySchema({ class: Book, properties: { id: { type: 'number', primary: true }, title: { type: 'string' } } });
      const open = async (lib, cache) => {
        const orm = await MikroORM.init({ driver: BetterSqliteDriver, dbName: ':memory:', entities: [schema], allowGlobalContext: true, debug: false });
        await orm.schema.createSchema();
        lib.installCacheTags(orm, { cache });
        return orm;
      };
      const other = await open(cjs, cjsCache);
      const orm = await open(esm, cache);
      await orm.em.insert(Book, { id: 1, title: 'before' });
      const titles = async () => (await orm.em.fork().find(Book, {})).map((b) => b.title);
      const update = () => orm.em.fork().createQueryBuilder(Book).update({ title: 'after' }).where({ id: 1 }).execute();
      ${exercise}
      await other.close(); await orm.close();`);
    assert.deepEqual(JSON.parse(out), ['before', 'after']);
  });

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
