import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runTypeOrmExample } from '../../examples/typeorm/main.js';

/*
 * `npm run demo` is the first thing a new user runs: it must print the same lines on every run,
 * and show the story in order: a miss, a hit, a write and the tags it invalidated, the miss after
 * it, and the hit after that.
 */
async function demoOutput(): Promise<string[]> {
  const lines: string[] = [];
  await runTypeOrmExample((line) => lines.push(line));
  return lines;
}

describe('the demo', () => {
  it('prints the same lines on every run', async () => {
    const first = await demoOutput();
    for (let run = 0; run < 4; run += 1) assert.deepEqual(await demoOutput(), first);
  });

  it('shows a miss, a hit, a write with the tags it invalidated, then a miss and a hit of what it invalidated', async () => {
    const lines = await demoOutput();
    const at = (pattern: RegExp, from = 0) => {
      const i = lines.findIndex((line, n) => n >= from && pattern.test(line));
      assert.ok(i >= 0, `no line after line ${from} matches ${pattern}:\n${lines.join('\n')}`);
      return i;
    };
    const miss = at(/miss {2}PhotoService\.photo(@[\w-]+)?\(1\) \(absent\)/);
    const hit = at(/hit {3}PhotoService\.photo(@[\w-]+)?\(1\)/, miss);
    const write = at(/^move the beach photo/, hit);
    const invalidated = at(/^ {4}update Photo invalidated .*Photo_1/, write);
    const missAfter = at(/miss {2}PhotoService\.photo(@[\w-]+)?\(1\) \(invalidated\)/, invalidated);
    at(/hit {3}PhotoService\.photo(@[\w-]+)?\(1\)/, missAfter);
    assert.deepEqual(lines.filter((line) => line.includes('not stored')), []);
  });
});
