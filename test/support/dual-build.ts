import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { legPreloads } from './leg-preloads.js';

/*
 * An application can load both builds of cache-tags in one process: its own ESM code imports one,
 * a CommonJS dependency (a Nest module, a plugin) requires the other. Query-builder writes through
 * an ORM wired with either build must still invalidate. The checks run the built package (dist/)
 * in a child process, each ORM on SQLite in memory.
 */

export const root = join(__dirname, '..', '..', '..');

/** `skip` for the suites: they need dist/. */
export const needsDist = existsSync(join(root, 'dist/cjs/index.js')) ? false : 'dist/ is not built (npm run build)';

/** Runs `code` as an ES module in a child process at the repository's root (with a leg's preloads); returns what it printed. */
export const run = (code: string): string => execFileSync(process.execPath, [...legPreloads, '--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' }).trim();

/** Loads the CommonJS build first (it patches the ORM's prototypes first), then wires an ORM with the ESM build. */
export const prelude = (subpath: string): string => `
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
export const exercise = `
  const read = () => cache.wrap('titles', async () => (await titles()).join(','), { tags: [esm.tagForType(Book)] });
  const before = await read();
  await update();
  console.log(JSON.stringify([before, await read()]));
`;
