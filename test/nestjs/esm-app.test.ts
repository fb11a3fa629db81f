/*
 * An ESM NestJS application (what NestJS 12, ESM-only, requires) works with the ESM build of
 * cache-tags, as CommonJS applications work with the CommonJS build (the other suites). The app
 * runs in a child process with this process's preloads, so that a version leg's NestJS serves it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PLATFORMS } from './support/photo-app.js';

const root = join(__dirname, '..', '..', '..');

describe('an ESM NestJS application', { skip: existsSync(join(root, 'dist/esm/nestjs/index.js')) ? false : 'dist/ is not built (npm run build)' }, () => {
  for (const platform of PLATFORMS) {
    it(`caches its pages on ${platform} through cache-tags/nestjs, loaded as ESM`, () => {
      const out = execFileSync(process.execPath, [...process.execArgv, join(root, 'test/nestjs/support/esm-app.mjs'), platform], { cwd: root, encoding: 'utf8' });
      const { nest, runs, seen } = JSON.parse(out) as { nest: string; runs: number; seen: { status: number; cache: string; body: unknown }[] };
      // In a version leg (scripts/run-legs.mjs) that pins NestJS, the app must have run on the leg's NestJS.
      const leg = process.env.CACHE_TAGS_LEG_DIR;
      const legNest = leg && (JSON.parse(readFileSync(join(leg, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies['@nestjs/core'];
      if (legNest) assert.equal(nest, legNest);
      assert.deepEqual(
        seen.map((s) => [s.status, s.cache]),
        [
          [200, 'MISS'],
          [200, 'HIT'],
          [200, 'MISS'],
        ],
      );
      assert.deepEqual(seen[1].body, { titles: ['Dune'] });
      assert.equal(runs, 2, 'the service ran once before the pages and once after the invalidation');
    });
  }
});
