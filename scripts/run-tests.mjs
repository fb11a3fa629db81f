// `npm test`: compile once (type errors fail the run), find the servers, run every compiled
// *.test.js with node's test runner, say a line per file, and end with one line for the whole run.
// A server that does not answer skips the suites that need it, with one line that names it; under
// CI it fails the run instead. The Redis database the tests use is left as it was found.
//   npm test                 everything
//   npm test -- test/core    only the test files whose path contains one of the arguments (no legs)
//   CACHE_TAGS_LEGS=1 npm test   also the version legs, as CI always does
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root } from './programs.mjs';

const buildDir = process.env.BUILD_DIR ?? '.build';
const started = Date.now();
const seconds = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const phase = (text) => console.log(`\n[${seconds()}] ${text}`);

phase('compile');
if (spawnSync(process.execPath, [join(root, 'scripts/compile.mjs')], { stdio: 'inherit' }).status !== 0) process.exit(1);

phase('servers');
const { SERVERS, REDIS_URL, reachable } = await import(pathToFileURL(join(root, buildDir, 'test/support/servers.js')).href);
const { RedisDatabaseGuard } = await import(pathToFileURL(join(root, 'scripts/redis-guard.mjs')).href);
const env = { ...process.env };
let redisUp = false;
for (const server of SERVERS) {
  if (await reachable(server.host, server.port)) {
    console.log(`  ${server.label}: ${server.host}:${server.port}${server.name === 'redis' ? ` (tests use ${REDIS_URL})` : ''}`);
    if (server.name === 'redis') redisUp = true;
    continue;
  }
  if (process.env.CI) {
    console.error(`${server.label} is not reachable at ${server.host}:${server.port}, and CI is set: the ${server.label}-backed suites cannot run.`);
    process.exit(1);
  }
  console.log(`  ${server.label} is not reachable at ${server.host}:${server.port}: skipping the ${server.label}-backed suites.`);
  env[`CACHE_TAGS_NO_${server.name.toUpperCase()}`] = '1';
}
const guard = redisUp ? await RedisDatabaseGuard.open(REDIS_URL) : undefined;

const files = [];
(function collect(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) collect(path);
    else if (entry.name.endsWith('.test.js')) files.push(path);
  }
})(join(buildDir, 'test'));
const only = process.argv.slice(2);
const selected = (only.length ? files.filter((f) => only.some((o) => f.includes(o.replace(/\.ts$/, '')))) : files).sort();

const totals = { passed: 0, failed: 0, skipped: 0 };

/** Runs `list` in one node test run; its reporter prints a line per file and hands back the counts. */
function pass(preload, list) {
  // The consistency tests freeze Date with node:test's MockTimers, to show that no judgement of the
  // cache reads the clock; node flags that API as experimental on every use.
  const args = [...preload, '--disable-warning=ExperimentalWarning', '--enable-source-maps', '--test', '--test-concurrency=2', '--test-timeout=120000', `--test-reporter=${pathToFileURL(join(root, 'scripts/test-reporter.mjs')).href}`, ...list];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
  let buffered = '';
  let counted = false;
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop();
    for (const line of lines) {
      if (line.startsWith('#counts ')) {
        const counts = JSON.parse(line.slice('#counts '.length));
        for (const k of Object.keys(totals)) totals[k] += counts[k];
        counted = true;
      } else {
        console.log(line);
      }
    }
  });
  return new Promise((resolve) =>
    child.on('close', (code) => {
      if (buffered) console.log(buffered);
      // A run that died before its reporter could count still fails.
      if (!counted || (code !== 0 && totals.failed === 0)) totals.failed += 1;
      resolve();
    }),
  );
}

// The TypeORM-backed suites run a second time against TypeORM 0.3 (devDependency alias typeorm03).
const onTypeorm03 = selected.filter((f) => /[\\/](typeorm|nestjs)[\\/]/.test(f));
if (onTypeorm03.length > 0) {
  phase(`tests on TypeORM 0.3: ${onTypeorm03.length} files (the TypeORM and NestJS suites)`);
  await pass(['--require', join(root, 'scripts/typeorm-0.3.cjs')], onTypeorm03);
}
phase(`tests: ${selected.length} files${onTypeorm03.length ? ' (TypeORM 1.x)' : ''}`);
await pass([], selected);

// The version legs run the integration suites again on other majors of the peers (about a minute,
// installs included). CI runs them; a developer's run does so when asked, and a run limited to
// some files never does.
const legsWanted = only.length === 0 && (process.env.CI || process.env.CACHE_TAGS_LEGS === '1');
if (only.length === 0 && !legsWanted) phase('version legs: not run (CI, or CACHE_TAGS_LEGS=1, runs them)');
if (legsWanted) {
  const { legNames, runLegs } = await import(pathToFileURL(join(root, 'scripts/run-legs.mjs')).href);
  phase(`version legs: ${legNames().join(', ')}`);
  for (const leg of await runLegs(legNames(), { log: (line) => console.log(`  ${line.replace(/\n/g, '\n  ')}`) })) {
    console.log(`  ${leg.failed ? '✗' : '✓'} leg ${leg.leg}: ${leg.passed} passed, ${leg.failed} failed, ${leg.skipped} skipped`);
    for (const k of Object.keys(totals)) totals[k] += leg[k];
  }
}

if (guard) {
  phase('Redis');
  const { removed, grew, sizes } = await guard.restore();
  console.log(`  removed the ${removed} keys the tests left in ${REDIS_URL}; key counts now: ${sizes}`);
  if (grew.length > 0) {
    // Locally another program may share the server; under CI only the tests run.
    console.error(`  Redis databases that grew during the run: ${grew.map((db) => `db${db}`).join(', ')}${process.env.CI ? '' : ' (another client may share this server)'}`);
    if (process.env.CI) totals.failed += 1;
  }
}
console.log(`\nfinished in ${seconds()}`);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 ? 1 : 0);
