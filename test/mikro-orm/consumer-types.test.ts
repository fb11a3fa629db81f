import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Utils } from '@mikro-orm/core';
import { mikroOrmMajor } from '../../lib/mikro-orm/sql-package.js';
import { needsDist, root } from '../support/dual-build.js';

/*
 * A TypeScript application on the MikroORM of the pass (6, or 7 in the mikro7 leg) compiles against
 * the shipped declarations: the config through `defineCacheTagsConfig` into `MikroORM.init` (7 takes
 * a `Partial<Options>`), `installCacheTags`, `invalidateEntities`, `CacheTagsEntityManager`. With
 * `skipLibCheck` (the declarations name 6's `@mikro-orm/knex` types, which an application on 7 has
 * not installed); test/package.test.ts checks 6 with `skipLibCheck: false`.
 */
const APP = `import { MikroORM, type Options } from '@mikro-orm/core';
import { TagCache } from 'cache-tags';
import { CacheTagsEntityManager, defineCacheTagsConfig, installCacheTags, invalidateEntities } from 'cache-tags/mikro-orm';
declare const driver: NonNullable<Options['driver']>;
const cache = new TagCache();
export async function main(): Promise<void> {
  const orm = await MikroORM.init(defineCacheTagsConfig({ driver, dbName: 'app', entities: [] }, { cache }));
  installCacheTags(orm, { cache, maxRowsPerWrite: 100 });
  await invalidateEntities(orm.em, 'Photo', [1]);
  const em = orm.em.fork() as unknown as CacheTagsEntityManager;
  await em.nativeUpdate('Photo', { id: 1 }, { title: 'new' });
}
`;

/** The folder of the package `name` as this process resolves it (a leg's copy in a leg). */
function packageDir(name: string): string {
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json')) || (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name !== name) dir = dirname(dir);
  return dir;
}

describe(`a TypeScript application on MikroORM ${Utils.getORMVersion()}`, { skip: needsDist }, () => {
  const app = mkdtempSync(join(tmpdir(), 'cache-tags-mikro-types-'));
  after(() => rmSync(app, { recursive: true, force: true }));

  it('type-checks against the shipped declarations (node16 ESM, strict, skipLibCheck)', async () => {
    const modules = join(app, 'node_modules');
    // cache-tags is copied in, so that its declarations resolve @mikro-orm/core from the app, as installed.
    mkdirSync(join(modules, 'cache-tags'), { recursive: true });
    cpSync(join(root, 'package.json'), join(modules, 'cache-tags', 'package.json'));
    cpSync(join(root, 'dist'), join(modules, 'cache-tags', 'dist'), { recursive: true });
    for (const name of readdirSync(join(root, 'node_modules'))) {
      if (name !== '@mikro-orm' && !name.startsWith('.')) symlinkSync(join(root, 'node_modules', name), join(modules, name));
    }
    // MikroORM as an application on this major installs it: core and its SQL package (7: no knex).
    mkdirSync(join(modules, '@mikro-orm'));
    for (const name of ['@mikro-orm/core', mikroOrmMajor >= 7 ? '@mikro-orm/sql' : '@mikro-orm/knex']) symlinkSync(packageDir(name), join(modules, name));
    writeFileSync(join(app, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(app, 'app.ts'), APP);
    const compilerOptions = { strict: true, noEmit: true, skipLibCheck: true, target: 'es2022', module: 'node16', moduleResolution: 'node16', types: ['node'] };
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['app.ts'] }));
    const errors = await new Promise<string>((resolve) => {
      execFile(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', app], { cwd: app }, (error, stdout) => resolve(error ? stdout || error.message : ''));
    });
    assert.equal(errors, '');
  });
});
