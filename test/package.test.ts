/*
 * The package as users get it: `npm pack` of this repository (what `npm publish` would upload),
 * unpacked into the node_modules of a scratch app whose other dependencies are this repository's.
 * Every subpath is loaded from CommonJS and from ESM, and a TypeScript consumer is type-checked
 * against the shipped declarations with `skipLibCheck: false`.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const root = join(__dirname, '..', '..');
const app = mkdtempSync(join(tmpdir(), 'cache-tags-app-'));
const run = (file: string, args: string[], cwd = app) => execFileSync(file, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const node = (code: string, type: 'commonjs' | 'module') => run(process.execPath, [`--input-type=${type}`, '-e', code]).trim();

/** What each entry point must export, as a user imports it. */
const ENTRIES: Record<string, string[]> = {
  'cache-tags': ['TagCache', 'createTagCache', 'Cached', 'CacheTags', 'addCacheTags', 'setDefaultTagCache', 'CacheTagsError'],
  'cache-tags/typeorm': ['installCacheTags', 'CacheTagsSubscriber', 'invalidateEntities'],
  'cache-tags/mikro-orm': ['installCacheTags', 'CacheTagsSubscriber', 'defineCacheTagsConfig', 'invalidateEntities'],
  'cache-tags/nestjs': ['CacheTagsModule', 'CachePage'],
};

/** Packages a loaded entry may pull in (by node_modules path), and those it must not. */
const FOREIGN: Record<string, string> = {
  'cache-tags': 'typeorm|@mikro-orm|@nestjs',
  'cache-tags/typeorm': '@mikro-orm|@nestjs',
  'cache-tags/mikro-orm': 'typeorm|@nestjs',
};

let packed: string[] = [];

/**
 * Resolution modes a consumer may compile with, and the file that puts it in that mode. The others
 * (node10, bundler) are checked on the same tarball by arethetypeswrong (test/package-types.test.ts).
 */
const CONSUMERS = [
  ['node16, CommonJS', { module: 'node16', moduleResolution: 'node16', file: 'consumer.cts' }],
  ['node16, ESM', { module: 'node16', moduleResolution: 'node16', file: 'consumer.mts' }],
] as const;

const CONSUMER = `import { TagCache, Cached, CacheTags, type TagCacheOptions } from 'cache-tags';
import { installCacheTags as forTypeorm } from 'cache-tags/typeorm';
import { defineCacheTagsConfig } from 'cache-tags/mikro-orm';
import { CacheTagsModule, CachePage } from 'cache-tags/nestjs';
const options: TagCacheOptions = { namespace: 'app', ttl: 1000 };
const cache = new TagCache(options);
@CacheTags((p: Photo) => [\`Photo_\${p.id}\`]) class Photo { id = 1; }
class Service { @Cached(['Photo']) async count(): Promise<number> { return 1; } }
const n: Promise<number> = new Service().count();
export const used = [cache, forTypeorm, defineCacheTagsConfig, CacheTagsModule, CachePage, n, Photo];
`;

/** Starts the consumer type-checks side by side (each loads every ORM's declarations); each resolves its errors, or nothing. */
function startConsumerChecks(): Promise<string | undefined>[] {
  return CONSUMERS.map(([label, settings]) => {
    const dir = join(app, label.replace(/\W+/g, '-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, settings.file), CONSUMER);
    const compilerOptions = { strict: true, noEmit: true, skipLibCheck: false, experimentalDecorators: true, target: 'es2022', module: settings.module, moduleResolution: settings.moduleResolution, types: ['node'] };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: [settings.file] }));
    const check = new Promise<string | undefined>((resolve) => {
      execFile(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir }, (error, stdout) => resolve(error ? stdout || error.message : undefined));
    });
    return check;
  });
}
let consumerChecks: Promise<string | undefined>[] = [];

before(() => {
  const tarball = run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', app], root).trim().split('\n').pop()!;
  packed = run('tar', ['-tzf', tarball]).split('\n').filter(Boolean);
  const modules = join(app, 'node_modules');
  mkdirSync(join(modules, 'cache-tags'), { recursive: true });
  run('tar', ['-xzf', tarball, '-C', join(modules, 'cache-tags'), '--strip-components=1']);
  // The app's other dependencies: this repository's, as an app would have them installed.
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name === 'cache-tags' || name.startsWith('.')) continue;
    symlinkSync(join(root, 'node_modules', name), join(modules, name));
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true }));
  consumerChecks = startConsumerChecks();
});

after(() => rmSync(app, { recursive: true, force: true }));

describe('the packed cache-tags package', () => {
  it('ships both builds, the declarations, the README, the LICENSE and the docs, and no source or test', () => {
    for (const file of ['package/dist/cjs/index.js', 'package/dist/esm/index.js', 'package/dist/cjs/index.d.ts', 'package/dist/esm/index.d.ts', 'package/dist/esm/nestjs/index.js', 'package/README.md', 'package/LICENSE', 'package/docs/guarantees.md']) {
      assert.ok(packed.includes(file), `${file} is missing from the tarball`);
    }
    assert.deepEqual(packed.filter((f) => /^package\/(lib|test|scripts|\.build)\//.test(f)), []);
  });

  for (const [entry, names] of Object.entries(ENTRIES)) {
    it(`${entry} loads from CommonJS and from ESM with its API`, () => {
      const probe = (m: string) => `console.log(JSON.stringify(${JSON.stringify(names)}.filter((n) => typeof ${m}[n] !== 'function')))`;
      assert.equal(node(`const m = require('${entry}'); ${probe('m')}`, 'commonjs'), '[]', 'missing from the CommonJS build');
      assert.equal(node(`import * as m from '${entry}'; ${probe('m')}`, 'module'), '[]', 'missing from the ESM build');
    });
  }

  for (const [entry, foreign] of Object.entries(FOREIGN)) {
    it(`${entry} loads no code of ${foreign.split('|').join(', ')}`, () => {
      const loaded = node(`require('${entry}'); console.log(JSON.stringify(Object.keys(require.cache).filter((p) => /node_modules[\\\\/](${foreign})[\\\\/]/.test(p))))`, 'commonjs');
      assert.equal(loaded, '[]');
    });
  }

  it('a value cached through the ESM build is a hit through it, and an invalidation through the CJS build makes it miss', () => {
    const out = node(
      `import { TagCache } from 'cache-tags'; import { createRequire } from 'node:module';
       const cjs = createRequire(import.meta.url)('cache-tags');
       const store = new Map(); const esm = new TagCache({ store }); const other = new cjs.TagCache({ store });
       let runs = 0; const read = () => esm.wrap('k', () => ++runs, { tags: ['T'] });
       await read(); await read(); await other.invalidateTags(['T']); await read();
       console.log(runs);`,
      'module',
    );
    assert.equal(out, '2');
  });

  CONSUMERS.forEach(([label], i) => {
    it(`a TypeScript consumer type-checks against the shipped declarations (${label}, skipLibCheck false)`, async () => {
      const failure = await consumerChecks[i];
      if (failure) assert.fail(`the consumer does not type-check:\n${failure}`);
    });
  });
});
