import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CacheTags, CacheTagsError, TagCache, addCacheTags, defaultSerializer } from '../../lib/index.js';
import { storeOf } from '../support/keyv-store.js';
import { barrier, storeCases } from '../support/stores.js';

@CacheTags((p: Snapshot) => [`Snapshot_${p.id}`])
class Snapshot {
  id = 0;
  title = '';
  takenAt = new Date(0);
  get label(): string {
    return `#${this.id} ${this.title}`;
  }
  shout(): string {
    return this.title.toUpperCase();
  }
}

for (const store of storeCases) {
  describe(`TagCache on ${store.name}`, { skip: store.skip }, () => {
    const caches: TagCache[] = [];
    const make = (options?: ConstructorParameters<typeof TagCache>[0]) => {
      const cache = store.make(options);
      caches.push(cache);
      return cache;
    };
    after(() => Promise.all(caches.map((c) => c.close())));

    it('serves a hit without running the source again, and keeps distinct keys apart', async () => {
      const cache = make();
      let runs = 0;
      const read = (key: string) => cache.wrap(key, () => ({ key, run: ++runs }), { tags: ['T'] });
      assert.deepEqual(await read('a'), { key: 'a', run: 1 });
      assert.deepEqual(await read('a'), { key: 'a', run: 1 });
      assert.deepEqual(await read('b'), { key: 'b', run: 2 });
      assert.equal(runs, 2);
    });

    it('invalidateTags makes exactly the entries carrying the tag miss', async () => {
      const cache = make();
      const runs: Record<string, number> = {};
      const read = (key: string, tags: string[]) => cache.wrap(key, () => (runs[key] = (runs[key] ?? 0) + 1), { tags });
      await read('photo1', ['Photo_1', 'Photos']);
      await read('photo2', ['Photo_2', 'Photos']);
      await read('user1', ['User_1']);
      await cache.invalidateTags(['Photo_1']);
      assert.equal(await read('photo1', ['Photo_1', 'Photos']), 2, 'the invalidated entry recomputes');
      assert.equal(await read('photo2', ['Photo_2', 'Photos']), 1, 'an entry with other tags still hits');
      await cache.invalidateTags(['Photos']);
      assert.equal(await read('photo1', ['Photo_1', 'Photos']), 3);
      assert.equal(await read('photo2', ['Photo_2', 'Photos']), 2);
      assert.equal(await read('user1', ['User_1']), 1);
    });

    it('an invalidation from another cache instance on the same store is seen at once', async () => {
      const cache = make();
      const other = new TagCache({ store: await cache.store(), namespace: cache.namespace });
      let runs = 0;
      await cache.wrap('k', () => ++runs, { tags: ['Shared'] });
      await other.invalidateTags(['Shared']);
      assert.equal(await cache.wrap('k', () => ++runs, { tags: ['Shared'] }), 2);
    });

    it('a cache given another cache\'s Keyv reads the entries that cache wrote', async () => {
      const cache = make();
      const other = new TagCache({ store: await cache.store(), namespace: cache.namespace });
      let runs = 0;
      await cache.wrap('k', () => ++runs, { tags: ['Shared'] });
      assert.equal(await other.wrap('k', () => ++runs, { tags: ['Shared'] }), 1, 'a hit in the other cache');
      await cache.invalidateTags(['Shared']);
      assert.equal(await other.wrap('k', () => ++runs, { tags: ['Shared'] }), 2, 'and its invalidation seen there');
    });

    it('a value computed while its tag is invalidated is returned, but not served again', async () => {
      const cache = make();
      let data = 'v1';
      const gate = barrier();
      const first = cache.wrap('race', async () => {
        const read = data;
        gate.arrive();
        await gate.wait;
        return read;
      }, { tags: ['Row_1'] });
      await gate.reached;
      data = 'v2';
      await cache.invalidateTags(['Row_1']);
      gate.release();
      assert.equal(await first, 'v1', 'the computation that started first gets what it read');
      assert.equal(await cache.wrap('race', () => data, { tags: ['Row_1'] }), 'v2', 'the next call does not get the stale value');
    });

    it('a tag added with addCacheTags during a computation that races an invalidation keeps the value out of the cache', async () => {
      const cache = make();
      let data = 'v1';
      const gate = barrier();
      const compute = async () => {
        const read = data;
        gate.arrive();
        await gate.wait;
        addCacheTags('Learned');
        return read;
      };
      const first = cache.wrap('learned', compute);
      await gate.reached;
      data = 'v2';
      await cache.invalidateTags(['Learned']);
      gate.release();
      assert.equal(await first, 'v1');
      assert.equal(await cache.wrap('learned', () => { addCacheTags('Learned'); return data; }), 'v2');
    });

    it('a tag learned during a computation is part of the entry: invalidating it later makes the entry miss', async () => {
      const cache = make();
      let runs = 0;
      const read = () => cache.wrap('found', () => { addCacheTags('Found'); return ++runs; }, { tags: ['Declared'] });
      assert.equal(await read(), 1);
      assert.equal(await read(), 1, 'stored, since Found was never written, so not invalidated during the computation');
      await cache.invalidateTags(['Found']);
      assert.equal(await read(), 2);
    });

    it('an inner cached call bubbles its tags to the outer entry, also when it races an invalidation', async () => {
      const cache = make();
      let inner = 'i1';
      let outerRuns = 0;
      const gate = barrier();
      const outer = (wait: boolean) => cache.wrap('outer', async () => {
        outerRuns += 1;
        const value = await cache.wrap('inner', () => inner, { tags: ['Inner'] });
        if (wait) {
          gate.arrive();
          await gate.wait;
        }
        return `outer(${value})`;
      }, { tags: ['Outer'] });

      const first = outer(true);
      await gate.reached;
      inner = 'i2';
      await cache.invalidateTags(['Inner']);
      gate.release();
      assert.equal(await first, 'outer(i1)');
      assert.equal(await outer(false), 'outer(i2)', 'the outer entry carried the inner tag at its old version');
      assert.equal(await outer(false), 'outer(i2)');
      assert.equal(outerRuns, 2, 'then it is stored and hits');
      inner = 'i3';
      await cache.invalidateTags(['Inner']);
      assert.equal(await outer(false), 'outer(i3)', 'invalidating only the inner tag invalidates the outer entry');
    });

    it('a lost tag version makes its entries miss: never valid again', async () => {
      const cache = make();
      let runs = 0;
      await cache.wrap('lost', () => ++runs, { tags: ['Evicted'] });
      const keyv = await cache.store();
      assert.equal(await keyv.delete(`{${cache.namespace}}:t:Evicted`), true, 'the version key existed');
      assert.equal(await cache.wrap('lost', () => ++runs, { tags: ['Evicted'] }), 2);
    });

    it('50 concurrent calls for one missing key run the source once', async () => {
      const cache = make();
      let runs = 0;
      const gate = barrier();
      const source = async () => {
        runs += 1;
        await gate.wait;
        return 'shared';
      };
      const calls = Array.from({ length: 50 }, () => cache.wrap('flight', source, { tags: ['F'] }));
      gate.release();
      assert.deepEqual(await Promise.all(calls), Array(50).fill('shared'));
      assert.equal(runs, 1);
    });

    it('a caller that joins a flight after an invalidation does not get the older value', async () => {
      const cache = make();
      let data = 'old';
      const gate = barrier();
      const leader = cache.wrap('joined', async () => {
        const read = data;
        gate.arrive();
        await gate.wait;
        return read;
      }, { tags: ['J'] });
      await gate.reached;
      data = 'new';
      await cache.invalidateTags(['J']);
      const late = cache.wrap('joined', () => data, { tags: ['J'] });
      gate.release();
      assert.equal(await leader, 'old');
      assert.equal(await late, 'new');
    });

    it('a hit returns what the miss returned: rich values and registered class instances', async () => {
      const cache = make();
      const snapshot = Object.assign(new Snapshot(), { id: 7, title: 'dune', takenAt: new Date('2024-01-02T03:04:05.006Z') });
      const value = {
        date: new Date('2020-02-29T12:00:00Z'),
        big: 2n ** 70n,
        map: new Map<unknown, unknown>([['a', 1], [2, new Set(['x'])]]),
        set: new Set([1, 'two', null]),
        buffer: Buffer.from('bytes'),
        floats: new Float64Array([1.5, -2.25]),
        ints: new Int32Array([1, -1, 2 ** 30]),
        undef: undefined,
        nul: null,
        nested: [[1, [2, [undefined, 'deep']]], { $ct: 'looks like a marker' }],
        special: [NaN, Infinity, -Infinity, -0],
        snapshot,
      };
      let runs = 0;
      const read = () => cache.wrap('rich', () => (runs++, value));
      const miss = await read();
      const hit = await read();
      assert.equal(runs, 1, 'the second read was a hit');
      assert.deepEqual(hit, miss);
      assert.ok(hit.snapshot instanceof Snapshot);
      assert.equal(hit.snapshot.label, '#7 dune', 'getters work after a hit');
      assert.equal(hit.snapshot.shout(), 'DUNE', 'methods work after a hit');
      assert.ok(hit.snapshot.takenAt instanceof Date);
      assert.ok(Buffer.isBuffer(hit.buffer));
      assert.ok(hit.floats instanceof Float64Array);
      assert.ok('undef' in hit, 'undefined properties are kept');
      assert.ok(Object.is(hit.special[3], -0));
    });

    it('a value with more special types than an entry lists the places of still comes back whole', async () => {
      const cache = make();
      // 100 rows with a Date each: past the list of marker paths, the hit walks the whole value.
      const rows = Array.from({ length: 100 }, (_, i) => ({ id: i, at: new Date(Date.UTC(2024, 0, 1 + i)), nested: { big: BigInt(i) } }));
      let runs = 0;
      const read = () => cache.wrap('many', () => (runs++, rows));
      await read();
      const hit = await read();
      assert.equal(runs, 1, 'the second read was a hit');
      assert.deepEqual(hit, rows);
      assert.ok(hit.every((row) => row.at instanceof Date && typeof row.nested.big === 'bigint'));
    });

    it('caches undefined and null results as hits, not as misses', async () => {
      const cache = make();
      let runs = 0;
      assert.equal(await cache.wrap('u', () => { runs++; return undefined; }), undefined);
      assert.equal(await cache.wrap('u', () => { runs++; return undefined; }), undefined);
      assert.equal(await cache.wrap('n', () => { runs++; return null; }), null);
      assert.equal(await cache.wrap('n', () => { runs++; return null; }), null);
      assert.equal(runs, 2);
    });

    it('get, set, delete and getTagVersions', async () => {
      const cache = make();
      assert.equal(await cache.get('g'), undefined);
      assert.equal(await cache.set('g', { a: new Date(1) }, { tags: ['G'] }), true);
      assert.deepEqual(await cache.get('g'), { a: new Date(1) });
      const before = (await cache.getTagVersions(['G', 'Never']));
      assert.match(before.G!, /^!\d+\.\S+$/, 'an ordered token: the sequence it was written at, and a random part');
      assert.equal(before.Never, undefined);
      await cache.invalidateTags(['G']);
      assert.notEqual((await cache.getTagVersions(['G'])).G, before.G);
      assert.equal(await cache.get('g'), undefined, 'an entry set with a tag misses once the tag is invalidated');
      await cache.set('g', 1, { tags: ['G'] });
      assert.equal(await cache.delete('g'), true);
      assert.equal(await cache.get('g'), undefined);
    });

    it('emits typed events: miss, set, hit, invalidate, stale', async () => {
      const cache = make();
      const seen: string[] = [];
      for (const event of ['hit', 'miss', 'set', 'stale', 'invalidate'] as const) cache.on(event, () => seen.push(event));
      await cache.wrap('e', () => 1, { tags: ['E'] });
      await cache.wrap('e', () => 1, { tags: ['E'] });
      await cache.invalidateTags(['E'], { entity: 'Photo' });
      assert.deepEqual(seen, ['miss', 'set', 'hit', 'invalidate']);
    });

    it('rejects bad input with errors that name it', async () => {
      const cache = make();
      await assert.rejects(cache.wrap('', () => 1), { name: 'CacheTagsError', code: 'E_INVALID_KEY' });
      await assert.rejects(cache.wrap('k', () => 1, { tags: ['ok', 3 as unknown as string] }), (err: CacheTagsError) => err.code === 'E_INVALID_TAG' && /tag 1/.test(err.message));
      await assert.rejects(cache.wrap('k', () => 1, { ttl: -1 }), { code: 'E_INVALID_OPTION' });
      await assert.rejects(cache.invalidateTags('Photo' as unknown as string[]), { code: 'E_INVALID_TAG' });
      await assert.rejects(
        cache.wrap('fn', () => ({ ok: 1, inner: { callback: () => 1 } })),
        (err: CacheTagsError) => err.code === 'E_UNSERIALIZABLE_VALUE' && err.message.includes('result.inner.callback') && err.message.includes('"fn"'),
      );
      class Unregistered {}
      await assert.rejects(cache.wrap('cls', () => [new Unregistered()]), /Unregistered.*registerSerializableClass/);
      assert.throws(() => new TagCache({ ttl: 'long' as unknown as number }), /ttl must be a non-negative number/);
      assert.throws(() => new TagCache({ store: 42 as unknown as string }), { code: 'E_INVALID_OPTION' });
    });

    it('the source error reaches every caller and nothing is cached', async () => {
      const cache = make();
      let runs = 0;
      const failing = () => cache.wrap('boom', async () => { runs++; throw new Error('db down'); });
      await assert.rejects(Promise.all([failing(), failing()]), /db down/);
      assert.equal(runs, 1);
      assert.equal(await cache.wrap('boom', () => 'ok'), 'ok');
    });
  });
}

describe('the default in-process store', () => {
  it('bounds entries and tag versions separately: invalidating many tags never pushes the entries out', async () => {
    const cache = new TagCache({ maxMemoryEntries: 10, maxMemoryTagVersions: 1000 });
    let runs = 0;
    const read = () => cache.wrap('kept', () => ++runs, { tags: ['Kept'] });
    assert.equal(await read(), 1);
    for (let i = 0; i < 50; i++) await cache.invalidateTags([`Bulk_${i}_a`, `Bulk_${i}_b`, `Bulk_${i}_c`, `Bulk_${i}_d`, `Bulk_${i}_e`]);
    assert.equal(await read(), 1, 'still a hit after 250 tag versions were written');
    await cache.close();
  });

  it('keeps at most maxMemoryEntries entries, and a forgotten tag version makes its entries miss', async () => {
    const cache = new TagCache({ maxMemoryEntries: 4, maxMemoryTagVersions: 2 });
    let runs = 0;
    const read = () => cache.wrap('kept', () => ++runs, { tags: ['K'] });
    assert.equal(await read(), 1);
    assert.equal(await read(), 1);
    for (let i = 0; i < 20; i++) await cache.set(`x${i}`, i);
    const store = await storeOf<{ sizes: { entries: number; tagVersions: number } }>(cache);
    assert.ok(store.sizes.entries <= 4, `at most 4 entries kept, got ${store.sizes.entries}`);
    assert.equal(await read(), 2, 'the forgotten entry is a miss, never a wrong hit');
    await cache.invalidateTags(['A', 'B', 'C']);
    assert.ok(store.sizes.tagVersions <= 2);
    assert.equal(await read(), 3, 'a forgotten tag version makes its entry miss');
    await cache.close();
  });
});

describe('the default serializer', () => {
  const revive = (text: string): unknown => defaultSerializer.deserialize(JSON.parse(text));

  it('revives what the encoder marked, by the paths it listed, and values stored without that list', () => {
    const encoded = JSON.stringify(defaultSerializer.serialize({ list: [{ at: new Date(5) }], plain: { n: 1 } }));
    assert.deepEqual(revive(encoded), { list: [{ at: new Date(5) }], plain: { n: 1 } });
    assert.deepEqual(revive('{"a":[{"$ct":"D","v":7}],"b":{"$ct":"u"}}'), { a: [new Date(7)], b: undefined });
  });

  it('refuses a stored value whose marker paths were tampered with, and changes nothing outside it', () => {
    const damaged = [
      '{"$ct":"P","at":[["__proto__","polluted"]],"v":{}}',
      '{"$ct":"P","at":[["constructor","prototype","polluted"]],"v":{}}',
      '{"$ct":"P","at":[["length"]],"v":[1]}',
      '{"$ct":"P","at":[["a"]],"v":{"a":"not a marker"}}',
      '{"$ct":"P","at":[[]],"v":{}}',
      '{"$ct":"P","at":"a","v":{}}',
    ];
    for (const text of damaged) {
      assert.throws(() => revive(text), (error: CacheTagsError) => error.code === 'E_UNSERIALIZABLE_VALUE', text);
    }
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
  });
});
