/*
 * The race judgement without wall clocks, on the in-process store and on Redis: a tag whose
 * version is known before its data is read needs no judgement; a tag learned after its data is
 * judged by the store's invalidation sequence. Date is frozen in the tests that would pass by a
 * clock margin's luck: with every version minted "now", only an ordering can tell.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { addCacheTags, dependOn, type TagCache } from '../../lib/index.js';
import { barrier, storeCases } from '../support/stores.js';

/** A deterministic pseudo-random sequence (mulberry32), so that a failure replays. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

for (const store of storeCases) {
  describe(`Race judgement on ${store.name}`, { skip: store.skip }, () => {
    const caches: TagCache[] = [];
    const make = () => {
      const cache = store.make();
      caches.push(cache);
      return cache;
    };
    after(() => Promise.all(caches.map((c) => c.close())));

    it('a page that learns a tag from a nested cached call is stored, even right after that tag was invalidated', async (t) => {
      t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
      const cache = make();
      let pageRuns = 0;
      const page = () => cache.wrap('page', async () => {
        pageRuns += 1;
        return `page(${await cache.wrap('list', () => 'rows', { tags: ['Photo'] })})`;
      });
      await page();
      await cache.invalidateTags(['Photo']); // returns before the next computation starts
      assert.equal(await page(), 'page(rows)');
      assert.equal(await page(), 'page(rows)');
      assert.equal(pageRuns, 2, 'the second computation was stored: the nested call captured its version before reading');
    });

    it('a tag added with addCacheTags after its data was read is stored when its last invalidation came before the computation', async (t) => {
      t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
      const cache = make();
      await cache.invalidateTags(['Photo_7']);
      let runs = 0;
      const read = () => cache.wrap('learned', async () => {
        runs += 1;
        addCacheTags('Photo_7');
        return runs;
      });
      assert.equal(await read(), 1);
      assert.equal(await read(), 1, 'stored: the store orders the invalidation before the computation');
      await cache.invalidateTags(['Photo_7']);
      assert.equal(await read(), 2, 'and invalidated by the tag it learned');
    });

    it('a tag that was never written is not "invalidated during the computation"', async (t) => {
      t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
      const cache = make();
      const stale: string[] = [];
      cache.on('stale', ({ reason }) => stale.push(reason));
      let runs = 0;
      const read = () => cache.wrap('fresh-tag', () => (addCacheTags('Never_written'), ++runs), { tags: ['Declared'] });
      assert.equal(await read(), 1);
      assert.equal(await read(), 1);
      assert.deepEqual(stale, []);
    });

    it('dependOn captures a version before the data is read: an invalidation after it makes the value dead on arrival', async () => {
      const cache = make();
      let data = 'v1';
      const gate = barrier();
      const compute = async (wait: boolean) => {
        await dependOn('Row_1');
        const read = data;
        if (wait) {
          gate.arrive();
          await gate.wait;
        }
        return read;
      };
      const first = cache.wrap('depends', () => compute(true));
      await gate.reached;
      data = 'v2';
      await cache.invalidateTags(['Row_1']);
      gate.release();
      assert.equal(await first, 'v1', 'the computation that started first gets what it read');
      assert.equal(await cache.wrap('depends', () => compute(false)), 'v2', 'stored under the version it captured, which is no longer current');
      let runs = 0;
      assert.equal(await cache.wrap('depends', () => (runs++, compute(false))), 'v2');
      assert.equal(runs, 0, 'stored when nothing intervened');
      assert.doesNotThrow(() => dependOn('outside a computation'));
    });

    it('a tag learned late and invalidated during the computation keeps the value out of the cache, and out of the enclosing one', async () => {
      const cache = make();
      let data = 'v1';
      const gate = barrier();
      const inner = (wait: boolean) => cache.wrap('inner', async () => {
        const read = data;
        if (wait) {
          gate.arrive();
          await gate.wait;
        }
        addCacheTags('Late');
        return read;
      });
      const outer = (wait: boolean) => cache.wrap('outer', async () => `outer(${await inner(wait)})`);
      const first = outer(true);
      await gate.reached;
      data = 'v2';
      await cache.invalidateTags(['Late']);
      gate.release();
      assert.equal(await first, 'outer(v1)');
      assert.equal(await outer(false), 'outer(v2)', 'neither the inner nor the outer value was stored');
    });

    it('randomized: writes landing at any point of computations never leave a stale value served after the write returned', async () => {
      const cache = make();
      const next = random(9);
      let data = 0;
      let stored = 0;
      cache.on('set', ({ key }) => key === 'page' && stored++);
      const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
      const ticks = async (n: number) => {
        for (let i = 0; i < n; i++) await tick();
      };
      const write = async () => {
        data += 1;
        await cache.invalidateTags([next() < 0.5 ? 'Item' : 'Item_list']);
      };
      const computePage = async () => {
        const how = Math.floor(next() * 4);
        if (how === 0) await dependOn('Item', 'Item_list');
        await ticks(Math.floor(next() * 3));
        const read = how === 1 ? await cache.wrap(`list-${Math.floor(next() * 3)}`, () => data, { tags: ['Item', 'Item_list'] }) : data;
        await ticks(Math.floor(next() * 3));
        if (how >= 2) addCacheTags('Item', 'Item_list');
        return read;
      };
      for (let round = 0; round < 150; round++) {
        const running = Array.from({ length: 1 + Math.floor(next() * 3) }, () => cache.wrap('page', computePage, { tags: next() < 0.3 ? ['Item'] : [] }));
        const writes: Promise<void>[] = [];
        for (let w = Math.floor(next() * 3); w > 0; w--) {
          await ticks(Math.floor(next() * 4));
          writes.push(write());
        }
        await Promise.all([...running, ...writes]);
        const expected = data;
        assert.equal(await cache.wrap('page', computePage), expected, `round ${round}: a read after every write returned sees the last one`);
      }
      assert.ok(stored > 0, 'some pages were stored');
    });
  });
}
