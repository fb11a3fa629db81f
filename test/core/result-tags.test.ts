/*
 * Tags derived from a method's result (`@Cached({ resultTags })`, `wrap(..., { resultTags })`): ids
 * known only once the query has run. They are learned after the data was read, so the race
 * judgement of docs/consistency.md must keep out a value whose result-tagged row was written
 * while it was computed: held computations, on the in-process store and on Redis.
 */
import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { Cached, CacheTagsError, setDefaultTagCache, TagCache, type TagCacheEvents } from '../../lib/index.js';
import { barrier, storeCases } from '../support/stores.js';

interface Photo {
  id: number;
  title: string;
}

/** The rows the "database" holds; the methods read them. */
const photos = new Map<number, Photo>();

class Gallery {
  runs = 0;
  /** Awaited after the rows were read and before the method returns, when set. */
  hold: Promise<void> | undefined;
  read = barrier();

  @Cached({ resultTags: (found: Photo[]) => found.map((p) => `Photo_${p.id}`) })
  async search(word: string): Promise<Photo[]> {
    this.runs++;
    const found = [...photos.values()].filter((p) => p.title.includes(word)).map((p) => ({ ...p }));
    if (this.hold) {
      this.read.arrive();
      await this.hold;
    }
    return found;
  }

  @Cached({ tags: (word: string) => [`Search_${word}`], resultTags: (found: Photo[], word: string) => [...found.map((p) => `Photo_${p.id}`), `Word_${word}`] })
  async tagged(word: string): Promise<Photo[]> {
    this.runs++;
    return [...photos.values()].filter((p) => p.title.includes(word));
  }

  /** An enclosing cached call: it depends on the inner call's result tags too. */
  @Cached()
  async titles(word: string): Promise<string[]> {
    this.runs++;
    return (await this.search(word)).map((p) => p.title);
  }

  @Cached({
    resultTags: (found: Photo[]) => {
      if (found.length > 0) throw new Error('no id on a search hit');
      return [];
    },
  })
  async broken(word: string): Promise<Photo[]> {
    this.runs++;
    return [...photos.values()].filter((p) => p.title.includes(word));
  }

  @Cached({ resultTags: () => ['Photo_1', ''] })
  async emptyTag(): Promise<number> {
    this.runs++;
    return 1;
  }
}

function seed(): void {
  photos.clear();
  photos.set(1, { id: 1, title: 'beach at dawn' });
  photos.set(2, { id: 2, title: 'beach at dusk' });
  photos.set(3, { id: 3, title: 'forest' });
}

for (const store of storeCases) {
  describe(`@Cached resultTags on ${store.name}`, { skip: store.skip }, () => {
    let cache: TagCache;
    let gallery: Gallery;
    const errors: string[] = [];
    const stale: TagCacheEvents['stale'][] = [];
    const closing: TagCache[] = [];

    beforeEach(async () => {
      seed();
      errors.length = 0;
      stale.length = 0;
      cache = store.make({ logger: { warn: () => undefined, error: (message, error) => errors.push(`${message} | ${(error as Error).message}`) } });
      closing.push(cache);
      cache.on('stale', (event) => stale.push(event));
      setDefaultTagCache(cache);
      gallery = new Gallery();
      // A Redis namespace has no invalidation sequence before its first write, and a value with
      // learned tags computed before then cannot be judged (so is not stored): start from a used one.
      await cache.invalidateTags(['warm-up']);
    });
    after(async () => {
      setDefaultTagCache(new TagCache());
      await Promise.all(closing.map((c) => c.close()));
    });

    it('a write of a row the result holds invalidates it; a row it does not hold does not', async () => {
      assert.deepEqual((await gallery.search('beach')).map((p) => p.id), [1, 2]);
      await cache.invalidateTags(['Photo_3']);
      await gallery.search('beach');
      assert.equal(gallery.runs, 1, 'Photo_3 is not in the result: still a hit');

      photos.get(2)!.title = 'beach at night';
      await cache.invalidateTags(['Photo_2']);
      assert.deepEqual((await gallery.search('beach')).map((p) => p.title), ['beach at dawn', 'beach at night']);
      assert.equal(gallery.runs, 2);
    });

    it('adds to the declared tags, and receives the arguments after the result', async () => {
      const stored: string[][] = [];
      cache.on('set', ({ tags }) => stored.push([...tags].sort()));
      await gallery.tagged('beach');
      assert.deepEqual(stored, [['Photo_1', 'Photo_2', 'Search_beach', 'Word_beach']]);
      await cache.invalidateTags(['Word_beach']);
      await gallery.tagged('beach');
      assert.equal(gallery.runs, 2);
    });

    it('a write of a result-tagged row that lands while the computation runs keeps the stale result out of the cache', async () => {
      const held = barrier();
      gallery.hold = held.wait;
      const first = gallery.search('beach');
      await gallery.read.reached;
      // The write lands after the rows were read, before the result (and its tags) are known.
      photos.get(1)!.title = 'beach at noon';
      await cache.invalidateTags(['Photo_1']);
      held.release();
      assert.deepEqual((await first).map((p) => p.title), ['beach at dawn', 'beach at dusk'], 'its own caller gets the value');
      assert.deepEqual(stale.map((e) => e.reason), ['invalidated-during-computation']);

      gallery.hold = undefined;
      assert.deepEqual((await gallery.search('beach')).map((p) => p.title), ['beach at noon', 'beach at dusk'], 'the value read before the write was not served');
      await gallery.search('beach');
      assert.equal(gallery.runs, 2, 'the fresh value was stored');
    });

    it('an enclosing cached call depends on the result tags of the call it makes', async () => {
      assert.deepEqual(await gallery.titles('beach'), ['beach at dawn', 'beach at dusk']);
      photos.get(2)!.title = 'beach at night';
      await cache.invalidateTags(['Photo_2']);
      assert.deepEqual(await gallery.titles('beach'), ['beach at dawn', 'beach at night']);
    });

    it('a resultTags function that throws: the value is returned, not stored, and the error names the method', async () => {
      assert.deepEqual((await gallery.broken('forest')).map((p) => p.id), [3]);
      assert.deepEqual((await gallery.broken('forest')).map((p) => p.id), [3]);
      assert.equal(gallery.runs, 2, 'never stored: what it depends on is unknown');
      assert.equal(errors.length, 2);
      assert.match(errors[0], /resultTags function of cache key ".*broken.*" failed; the value was returned but not stored \| @Cached on Gallery\.broken: option resultTags threw: no id on a search hit/);
      assert.deepEqual(stale.map((e) => e.reason), ['result-tags-failed', 'result-tags-failed']);
      assert.ok(stale[0].error instanceof CacheTagsError && stale[0].error.code === 'E_INVALID_TAG');

      await gallery.broken('nothing');
      await gallery.broken('nothing');
      assert.equal(gallery.runs, 3, 'stored when the function returns tags');
    });

    it('a resultTags function that returns a bad tag is reported the same way', async () => {
      assert.equal(await gallery.emptyTag(), 1);
      assert.equal(await gallery.emptyTag(), 1);
      assert.equal(gallery.runs, 2);
      assert.match(errors[0], /@Cached on Gallery\.emptyTag: resultTags: tag 1 must be a non-empty string, got ""/);
    });

    it('TagCache.wrap takes resultTags too', async () => {
      let runs = 0;
      const read = () => cache.wrap('photo-ids', () => {
        runs++;
        return [1, 2];
      }, { resultTags: (ids: number[]) => ids.map((id) => `Photo_${id}`) });
      await read();
      await read();
      assert.equal(runs, 1);
      await cache.invalidateTags(['Photo_2']);
      await read();
      assert.equal(runs, 2);
    });
  });
}

describe('resultTags options', () => {
  it('a resultTags that is not a function fails at decoration, and in wrap, naming the option', async () => {
    assert.throws(() => Cached({ resultTags: ['Photo'] as never }), /@Cached: option resultTags must be a function of the result and the arguments, got an array/);
    const cache = new TagCache();
    await assert.rejects(cache.wrap('k', () => 1, { resultTags: 'Photo' as never }), /TagCache.wrap\("k"\): option resultTags must be a function of the value, got "Photo"/);
    await cache.close();
  });
});
