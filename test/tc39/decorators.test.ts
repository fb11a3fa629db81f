/*
 * Compiled by test/tc39/tsconfig.json: TypeScript 5 standard (TC39) decorators, no
 * experimentalDecorators. The same decorators must work as in the legacy build.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CacheTags, Cached, CacheTagsError, TagCache, setDefaultTagCache, tagsFor } from '../../lib/index.js';

const cache = new TagCache({ namespace: 'tc39' });
setDefaultTagCache(cache);
after(() => cache.close());

@CacheTags((p: Photo) => [`Photo_${p.id}`])
class Photo {
  constructor(public id: number, public title: string) {}
  get heading(): string {
    return `${this.id}: ${this.title}`;
  }
}

describe('standard (TC39) decorators', () => {
  it('@Cached caches instance and static methods and invalidates by tag', async () => {
    let runs = 0;
    class PhotoService {
      @Cached({ tags: (id: number) => [`Photo_${id}`] })
      async get(id: number) {
        runs += 1;
        return new Photo(id, `t${runs}`);
      }

      @Cached(['Photo'])
      static async count(): Promise<number> {
        runs += 1;
        return 42;
      }
    }
    const s = new PhotoService();
    const miss = await s.get(1);
    const hit = await s.get(1);
    assert.equal(runs, 1);
    assert.ok(hit instanceof Photo, 'the @CacheTags class is revived');
    assert.equal(hit.heading, miss.heading);
    await cache.invalidateTags(['Photo_1']);
    assert.equal((await s.get(1)).title, 't2');
    assert.equal(await PhotoService.count(), 42);
    assert.equal(await PhotoService.count(), 42);
    assert.equal(runs, 3);
  });

  it('@CacheTags registers tag functions', () => {
    assert.deepEqual(tagsFor(new Photo(9, 'x')), ['Photo_9']);
  });

  it('errors name the class, method and argument', async () => {
    class Reports {
      @Cached()
      async build(_a: number, _b: unknown) {
        return 1;
      }
    }
    await assert.rejects(
      new Reports().build(1, () => 2),
      (err: unknown) => err instanceof CacheTagsError && err.code === 'E_UNENCODABLE_ARGUMENT' && /Reports\.build: argument 1/.test(err.message),
    );
  });

  it('rejects @Cached on a field at decoration time', () => {
    assert.throws(() => {
      class Wrong {
        @(Cached() as any)
        field = 1;
      }
      return Wrong;
    }, (err: unknown) => err instanceof CacheTagsError && err.code === 'E_DECORATOR_TARGET' && /not a field \(field\)/.test(err.message));
  });
});
