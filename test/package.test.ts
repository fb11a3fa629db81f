/*
 * The published shape: `cache-tags` resolves through package.json `exports` to the dual build in
 * dist/ (built by `npm test`'s pretest), from CommonJS and from ESM, with types; and the core
 * loads no ORM or NestJS code.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(__dirname, '..', '..');
const node = (code: string, type: 'commonjs' | 'module') =>
  execFileSync(process.execPath, [type === 'module' ? '--input-type=module' : '--input-type=commonjs', '-e', code], { cwd: root, encoding: 'utf8' });

describe('the cache-tags package', { skip: existsSync(join(root, 'dist/cjs/index.js')) ? false : 'dist/ is not built (npm run build)' }, () => {
  it('loads from CommonJS and from ESM, with the same API', () => {
    const probe = `const m = MOD; const c = new m.TagCache(); console.log([typeof m.Cached, typeof m.CacheTags, typeof m.addCacheTags, c instanceof m.TagCache].join(','));`;
    const cjs = node(probe.replace('MOD', `require('cache-tags')`), 'commonjs');
    const esm = node(`import * as mod from 'cache-tags'; ${probe.replace('MOD', 'mod')}`, 'module');
    assert.equal(cjs.trim(), 'function,function,function,true');
    assert.equal(esm.trim(), cjs.trim());
  });

  it('ships type declarations for the core', () => {
    assert.ok(existsSync(join(root, 'dist/cjs/index.d.ts')));
  });

  it('the core loads no ORM and no NestJS module', () => {
    const loaded = node(
      `require('cache-tags'); console.log(Object.keys(require.cache).filter((p) => /node_modules[\\\\/](typeorm|@mikro-orm|@nestjs)[\\\\/]/.test(p)).length)`,
      'commonjs',
    );
    assert.equal(loaded.trim(), '0');
  });

  for (const [subpath, foreign] of [['typeorm', '@mikro-orm|@nestjs'], ['mikro-orm', 'typeorm|@nestjs']] as const) {
    it(`cache-tags/${subpath} loads from CommonJS and ESM without the other ORM or NestJS`, { skip: existsSync(join(root, `dist/cjs/${subpath}/index.js`)) ? false : `lib/${subpath} is not built` }, () => {
      const count = `console.log(Object.keys(require.cache).filter((p) => /node_modules[\\\\/](${foreign})[\\\\/]/.test(p)).length)`;
      assert.equal(node(`require('cache-tags/${subpath}'); ${count}`, 'commonjs').trim(), '0');
      assert.equal(node(`const m = await import('cache-tags/${subpath}'); console.log(Object.keys(m).length > 0)`, 'module').trim(), 'true');
    });
  }

  it('cache-tags/nestjs loads from CommonJS and ESM', { skip: existsSync(join(root, 'dist/cjs/nestjs/index.js')) ? false : 'lib/nestjs is not built' }, () => {
    assert.equal(node(`console.log(typeof require('cache-tags/nestjs').CacheTagsModule)`, 'commonjs').trim(), 'function');
    assert.equal(node(`const m = await import('cache-tags/nestjs'); console.log(typeof m.CacheTagsModule)`, 'module').trim(), 'function');
  });
});
