import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { Deadlines } from '../../lib/core/deadlines.js';

/** Resolves once `expire` of a deadline ran, with the names of those that ran before it. */
function expiring(deadlines: Deadlines, limitMs: number, name: string, expired: string[]): Promise<string[]> {
  return new Promise((resolve) => {
    deadlines.start(limitMs, () => {
      expired.push(name);
      resolve([...expired]);
    });
  });
}

describe('store-call deadlines on one timer', () => {
  it('expires a shorter bound that comes in after a longer one first, and never a settled call', async () => {
    const deadlines = new Deadlines();
    const expired: string[] = [];
    const long = expiring(deadlines, 40, 'long', expired);
    const short = expiring(deadlines, 10, 'short', expired);
    const settled = deadlines.start(5, () => expired.push('settled'));
    assert.equal(deadlines.settle(settled), true, 'a pending call settles once');
    assert.deepEqual(await short, ['short'], 'the timer armed for the longer bound must not delay the shorter one');
    assert.deepEqual(await long, ['short', 'long']);
    assert.equal(deadlines.settle(settled), false, 'settling twice is refused');
  });

  it('a timer that fires late expires the calls that are due earliest bound first', async () => {
    const deadlines = new Deadlines();
    const expired: string[] = [];
    const long = expiring(deadlines, 20, 'long', expired);
    const short = expiring(deadlines, 10, 'short', expired);
    const busyUntil = performance.now() + 40;
    while (performance.now() < busyUntil); // a busy event loop: both are due when the timer fires
    assert.deepEqual(await short, ['short']);
    assert.deepEqual(await long, ['short', 'long']);
  });

  it('refuses to settle a call whose time is up, so that its late answer is ignored', async () => {
    const deadlines = new Deadlines();
    let deadline: ReturnType<Deadlines['start']> | undefined;
    await new Promise<void>((resolve) => {
      deadline = deadlines.start(1, resolve);
    });
    assert.equal(deadlines.settle(deadline!), false);
  });
});
