import assert from 'node:assert/strict';

/**
 * Reads `read` twice and checks that the second read was a hit (`runs()`, the source's run count,
 * did not move) with the same value; returns the value. The "before the write" half of a test that
 * a write invalidates a cached read.
 */
export async function readTwice<T>(read: () => Promise<T>, runs: () => number): Promise<T> {
  const value = await read();
  const before = runs();
  assert.deepEqual(await read(), value);
  assert.equal(runs(), before, 'a hit before the write');
  return value;
}
