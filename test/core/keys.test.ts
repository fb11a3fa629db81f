import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { KeyBuilder, encodeKeyPart } from '../../lib/core/keys.js';
import type { TagCache } from '../../lib/index.js';
import { storeCases } from '../support/stores.js';

/** On a loaded machine a slow store answer is a fail-open miss; these tests are about keys, not timeouts. */
const PATIENT = { timeoutMs: 5000 };

/** The store key the old shortening gave a long name: its first 64 characters, `#`, a digest. */
function oldShortForm(name: string): string {
  return `${name.slice(0, 64)}#${createHash('sha256').update(name).digest('base64url')}`;
}

describe('store keys', () => {
  it('are different for every different (namespace, kind, name), and survive UTF-8', () => {
    const long = 'search:' + 'x'.repeat(300);
    const names = [
      'a', 'a#', 'a%23', 'a%', 'a%25', long, oldShortForm(long), 'k\uD800', 'k\uDC00', 'k\uFFFD', 'k%uD800', 'k\uD83D\uDE00',
      '\uD800'.repeat(150), '\uDC00'.repeat(150), '\uFFFD'.repeat(150),
    ];
    const seen = new Map<string, string>();
    for (const namespace of ['ns', 'ns:e', 'ns%3A', 'n\uD800']) {
      const keys = new KeyBuilder(namespace);
      for (const name of names) {
        for (const [kind, storeKey] of [['entry', keys.entry(name)], ['tag', keys.tag(name)], ['lock', keys.lock(name)]] as const) {
          const what = `${JSON.stringify(namespace)} ${kind} ${JSON.stringify(name)}`;
          // What Redis keeps is the UTF-8 bytes: a lone surrogate would come back as U+FFFD.
          const stored = Buffer.from(storeKey, 'utf8').toString('utf8');
          assert.equal(stored, storeKey, `${what} survives UTF-8`);
          assert.ok(!seen.has(stored), `${what} and ${seen.get(stored)} share the store key ${stored}`);
          seen.set(stored, what);
          assert.ok(storeKey.length < 300, `${what} is bounded`);
        }
      }
    }
  });
});

describe('argument encoding', () => {
  it('a # in a string or comment of a class is not mistaken for #private members', () => {
    class Swatch {
      constructor(readonly hex: string) {}
      label() {
        return `see #details for ${this.hex}`; // #1: colours are '#rrggbb'
      }
    }
    assert.notEqual(encodeKeyPart(new Swatch('#fff')), encodeKeyPart(new Swatch('#000')));
  });
});

for (const store of storeCases) {
  describe(`store keys on ${store.name}`, { skip: store.skip }, () => {
    const caches: TagCache[] = [];
    const make = () => {
      const cache = store.make(PATIENT);
      caches.push(cache);
      return cache;
    };
    after(() => Promise.all(caches.map((c) => c.close())));

    it('a crafted key shaped like a shortened long key does not read the long key\'s entry', async () => {
      const cache = make();
      const long = 'search:' + 'q'.repeat(250);
      assert.equal(await cache.wrap(long, () => 'the long query'), 'the long query');
      const crafted = oldShortForm(long);
      assert.equal(crafted.length, 108);
      assert.equal(await cache.wrap(crafted, () => 'the crafted query'), 'the crafted query');
      assert.equal(await cache.wrap(long, () => 'recomputed'), 'the long query');
    });

    it('keys and tags that differ only in lone surrogates keep their own entries and versions', async () => {
      const cache = make();
      assert.equal(await cache.wrap('k\uD800', () => 'high', { tags: ['t\uD800'] }), 'high');
      assert.equal(await cache.wrap('k\uDC00', () => 'low', { tags: ['t\uDC00'] }), 'low');
      assert.equal(await cache.wrap('k\uFFFD', () => 'replacement'), 'replacement');
      await cache.invalidateTags(['t\uDC00']);
      assert.equal(await cache.wrap('k\uD800', () => 'recomputed'), 'high', 'invalidating t\\uDC00 leaves t\\uD800 alone');
      assert.equal(await cache.wrap('k\uDC00', () => 'low again', { tags: ['t\uDC00'] }), 'low again');
    });
  });
}
