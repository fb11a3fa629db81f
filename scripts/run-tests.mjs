// Runs every compiled *.test.js file with node's test runner. A server that does not answer skips
// the suites that need it, with one line that names it; under CI it fails the run instead.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const buildDir = process.env.BUILD_DIR ?? '.build';
// The compiled test support (npm test's pretest builds it) says which servers there are.
const { SERVERS, reachable } = await import(pathToFileURL(join(buildDir, 'test/support/servers.js')).href);

const env = { ...process.env };
for (const server of SERVERS) {
  if (await reachable(server.host, server.port)) continue;
  if (process.env.CI) {
    console.error(`${server.label} is not reachable at ${server.host}:${server.port}, and CI is set: the ${server.label}-backed suites cannot run.`);
    process.exit(1);
  }
  console.log(`${server.label} is not reachable at ${server.host}:${server.port}: skipping the ${server.label}-backed suites.`);
  env[`CACHE_TAGS_NO_${server.name.toUpperCase()}`] = '1';
}

const files = [];
(function collect(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) collect(path);
    else if (entry.name.endsWith('.test.js')) files.push(path);
  }
})(join(buildDir, 'test'));
const only = process.argv.slice(2);
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;

const run = (preload, list) =>
  spawnSync(process.execPath, [...preload, '--enable-source-maps', '--test', '--test-concurrency=1', '--test-timeout=120000', ...list.sort()], { stdio: 'inherit', env }).status ?? 1;

// The TypeORM-backed suites run a second time against TypeORM 0.3 (devDependency alias typeorm03).
const onTypeorm03 = selected.filter((f) => /[\\/](typeorm|nestjs)[\\/]/.test(f));
let status = 0;
if (onTypeorm03.length > 0) {
  console.log(`TypeORM 0.3 pass: ${onTypeorm03.length} test files`);
  status = run(['--require', './scripts/typeorm-0.3.cjs'], onTypeorm03);
  console.log(`TypeORM 1.x pass and everything else: ${selected.length} test files`);
}
process.exit(run([], selected) || status);
