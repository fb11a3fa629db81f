import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  CacheTags,
  Cached,
  CacheTagsError,
  TagCache,
  createTagCache,
  getDefaultTagCache,
  getTagCache,
  registerTagCache,
  unregisterTagCache,
  setDefaultTagCache,
  tagForType,
  tagsFor,
} from '../../lib/index.js';

const cache = new TagCache({ namespace: 'decorators' });
setDefaultTagCache(cache);
after(() => cache.close());

const isError = (code: string, ...parts: string[]) => (err: unknown) =>
  err instanceof CacheTagsError && err.code === code && parts.every((p) => err.message.includes(p));

describe('@Cached (experimentalDecorators)', () => {
  it('caches per arguments, with tags from a function of the arguments', async () => {
    let runs = 0;
    class PhotoService {
      @Cached({ tags: (id: number) => [`Photo_${id}`] })
      async getPhoto(id: number) {
        runs += 1;
        return { id, runs };
      }
    }
    const service = new PhotoService();
    assert.deepEqual(await service.getPhoto(1), { id: 1, runs: 1 });
    assert.deepEqual(await service.getPhoto(1), { id: 1, runs: 1 });
    assert.deepEqual(await service.getPhoto(2), { id: 2, runs: 2 });
    await cache.invalidateTags(['Photo_1']);
    assert.deepEqual(await service.getPhoto(1), { id: 1, runs: 3 });
    assert.deepEqual(await service.getPhoto(2), { id: 2, runs: 2 });
  });

  it('takes the shorthands @Cached([tags]) and @Cached(fn), on sync methods (plain JavaScript: the types refuse them) and static methods', async () => {
    let runs = 0;
    class Counter {
      @(Cached(['Photo']) as (target: object, name: string, d: PropertyDescriptor) => void)
      count(): number {
        return ++runs;
      }

      @(Cached((userId: number) => [`User_${userId}_photos`]) as (target: object, name: string, d: PropertyDescriptor) => void)
      static ofUser(userId: number): string {
        runs += 1;
        return `user ${userId}`;
      }
    }
    // What a JavaScript caller gets: the decorated methods return Promises.
    const counter = new Counter() as unknown as { count(): Promise<number> };
    const ofUser = (userId: number) => Counter.ofUser(userId) as unknown as Promise<string>;
    const first = counter.count() as unknown;
    assert.ok(first instanceof Promise, 'a decorated sync method returns a Promise');
    assert.equal(await first, 1);
    assert.equal(await counter.count(), 1);
    assert.equal(await ofUser(5), 'user 5');
    assert.equal(await ofUser(5), 'user 5');
    assert.equal(runs, 2);
    await cache.invalidateTags(['User_5_photos']);
    assert.equal(await ofUser(5), 'user 5');
    assert.equal(runs, 3);
  });

  it('encodes arguments stably and without collisions', async () => {
    const calls: unknown[][] = [];
    class Search {
      @Cached()
      async find(...args: unknown[]) {
        calls.push(args);
        return calls.length;
      }
    }
    const s = new Search();
    const a = await s.find({ where: { a: 1, b: 2 }, order: ['x'] });
    assert.equal(await s.find({ order: ['x'], where: { b: 2, a: 1 } }), a, 'object key order does not matter');
    const distinct = [[1], ['1'], ['a,b'], ['a', 'b'], [[1, 2]], [1, 2], [null], [undefined], [], [new Date(5)], [5], [1n], [true], ['true'], [{ a: undefined }], [{}]];
    const results = new Set<number>();
    for (const args of distinct) results.add(await s.find(...args));
    assert.equal(results.size, distinct.length, 'each distinct argument list gets its own entry');
  });

  it('rejects an argument that cannot form a key, naming class, method and position', async () => {
    class Reports {
      @Cached()
      async build(_name: string, _options: unknown) {
        return 1;
      }
    }
    const r = new Reports();
    await assert.rejects(r.build('x', () => 1), isError('E_UNENCODABLE_ARGUMENT', 'Reports.build', 'argument 1', 'a function'));
    await assert.rejects(r.build('x', { s: Symbol('s') }), isError('E_UNENCODABLE_ARGUMENT', 'Reports.build', 'argument 1', 'a symbol', 'at s'));
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await assert.rejects(r.build('x', circular), isError('E_UNENCODABLE_ARGUMENT', 'argument 1', 'circular'));
  });

  it('names the class and method when a tag function returns something other than strings', async () => {
    class Broken {
      @Cached({ tags: (id: number) => [id as unknown as string] })
      async load(id: number) {
        return id;
      }
    }
    await assert.rejects(new Broken().load(3), isError('E_INVALID_TAG', 'Broken.load', 'tag 0', 'number 3'));
  });

  it('fails at decoration time on bad options and wrong targets', () => {
    assert.throws(() => Cached({ ttl: -5 }), isError('E_INVALID_OPTION', 'ttl'));
    assert.throws(() => Cached({ tags: 'Photo' as unknown as string[] }), isError('E_INVALID_TAG'));
    assert.throws(() => Cached({ key: 'k' as unknown as () => string }), isError('E_INVALID_OPTION', 'key'));
    assert.throws(() => Cached({ cache: {} as TagCache }), isError('E_INVALID_OPTION', 'cache'));
    assert.throws(() => {
      class WithGetter {
        @(Cached() as (target: object, name: string, d: PropertyDescriptor) => void)
        get value() {
          return 1;
        }
      }
      return WithGetter;
    }, isError('E_DECORATOR_TARGET', 'an accessor', 'WithGetter.value'));
    assert.throws(() => CacheTags('Photo' as unknown as () => string[]), isError('E_INVALID_OPTION', '@CacheTags'));
  });

  it('uses the cache it is given: an instance, a registered name, or the default', async () => {
    const pages = new TagCache({ namespace: 'pages' });
    registerTagCache('pages', pages);
    after(() => pages.close());
    class Views {
      @Cached({ tags: ['V'], cache: 'pages' })
      async named() {
        return 'named';
      }
      @Cached({ tags: ['V'], cache: pages, key: () => 'views:explicit' })
      async instance() {
        return 'instance';
      }
      @Cached({ cache: 'nowhere' })
      async unknown() {
        return 1;
      }
    }
    const v = new Views();
    await v.named();
    await v.instance();
    assert.equal(await pages.get('views:explicit'), 'instance', 'the key function gives the exact key');
    assert.equal(await getDefaultTagCache().get('views:explicit'), undefined, 'nothing went to the default cache');
    await assert.rejects(v.unknown(), isError('E_UNKNOWN_CACHE', '"nowhere"', '"pages"'));
  });

  it('createTagCache makes a TagCache; unregistering with a cache removes only that cache', async () => {
    const first = createTagCache({ namespace: 'first' });
    const second = createTagCache({ namespace: 'second' });
    assert.ok(first instanceof TagCache);
    registerTagCache('shared-name', first);
    registerTagCache('shared-name', second);
    assert.equal(unregisterTagCache('shared-name', first), false, 'first was replaced: nothing to remove');
    assert.equal(getTagCache('shared-name'), second);
    assert.equal(unregisterTagCache('shared-name', second), true);
    assert.throws(() => getTagCache('shared-name'), isError('E_UNKNOWN_CACHE'));
    await Promise.all([first.close(), second.close()]);
  });

  it('an outer cached method is invalidated with the inner one it called', async () => {
    let title = 'a';
    class Inner {
      @Cached({ tags: (id: number) => [`Album_${id}`] })
      async title(_id: number) {
        return title;
      }
    }
    class Outer {
      constructor(private readonly inner: Inner) {}
      @Cached()
      async page(id: number) {
        return `<h1>${await this.inner.title(id)}</h1>`;
      }
    }
    const page = new Outer(new Inner());
    assert.equal(await page.page(1), '<h1>a</h1>');
    title = 'b';
    await cache.invalidateTags(['Album_1']);
    assert.equal(await page.page(1), '<h1>b</h1>');
  });
});

describe('@CacheTags', () => {
  @CacheTags((a: Animal) => [`Animal_${a.id}`])
  class Animal {
    constructor(public id: number) {}
  }
  @CacheTags((d: Dog) => [`Owner_${d.ownerId}_dogs`], { name: 'Hound' })
  class Dog extends Animal {
    constructor(id: number, public ownerId: number) {
      super(id);
    }
  }
  class Untagged {}

  it('tagsFor returns the class tags and the parents', () => {
    assert.deepEqual(tagsFor(new Dog(3, 9)), ['Owner_9_dogs', 'Animal_3']);
    assert.deepEqual(tagsFor(new Animal(4)), ['Animal_4']);
    assert.deepEqual(tagsFor(new Untagged()), []);
    assert.deepEqual(tagsFor({ id: 5, ownerId: 1 }, Dog), ['Owner_1_dogs', 'Animal_5'], 'a plain row with its class');
  });

  it('tagForType is the given name, else the class name', () => {
    assert.equal(tagForType(Dog), 'Hound');
    assert.equal(tagForType(Animal), 'Animal');
    assert.equal(tagForType(Untagged), 'Untagged');
  });

  it('names the class when its tag function returns a non-string', () => {
    @CacheTags(() => ['ok', undefined as unknown as string])
    class Sloppy {}
    assert.throws(() => tagsFor(new Sloppy()), isError('E_INVALID_TAG', 'Sloppy', 'tag 1'));
  });
});
