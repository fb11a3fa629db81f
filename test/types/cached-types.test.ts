import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

/*
 * The types of @Cached are part of what users rely on: a method that does not return a Promise
 * would change type under its callers (`const n: number = counter.count()` compiling, then
 * `n + 1` being "[object Promise]1"). The fixture is compiled by the real tsc, as users compile.
 */
const root = join(__dirname, '../../..');
const fixture = join(root, 'test/types/fixtures/cached-method-types.ts');
const expected = readFileSync(fixture, 'utf8')
  .split('\n')
  .flatMap((line, i) => (/\/\/ error$/.test(line) ? [i + 1] : []));

function compile(decorators: string[]): number[] {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const flags = ['--noEmit', '--strict', '--target', 'ES2022', '--module', 'commonjs', '--moduleResolution', 'node10', '--skipLibCheck', '--types', 'node', ...decorators];
  const run = spawnSync(process.execPath, [tsc, ...flags, fixture], { cwd: root, encoding: 'utf8' });
  const errors = run.stdout.split('\n').filter((line) => line.includes('cached-method-types.ts(') && line.includes('error TS'));
  assert.ok(!/lib[\\/]/.test(run.stdout), `the library itself compiles cleanly:\n${run.stdout}`);
  return [...new Set(errors.map((line) => Number(/\((\d+),\d+\)/.exec(line)?.[1])))];
}

describe('@Cached types', () => {
  it('a method that does not return a Promise does not compile (experimentalDecorators); async ones keep their type', () => {
    assert.deepEqual(compile(['--experimentalDecorators']), expected);
  });

  it('the same under standard (TC39) decorators', () => {
    assert.deepEqual(compile([]), expected);
  });
});
