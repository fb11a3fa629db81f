import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KeyBuilder } from '../../lib/core/keys.js';
import { CacheTags, CacheTagsError, registerSerializableClass, registerSerializableClasses, type TagCache } from '../../lib/index.js';
import { storeOf } from '../support/keyv-store.js';
import { storeCases } from '../support/stores.js';

/** On a loaded machine a slow store answer is a fail-open miss; these tests are about keys, not timeouts. */
const PATIENT = { timeoutMs: 5000 };

const isError = (code: string, ...parts: string[]) => (err: unknown) =>
  err instanceof CacheTagsError && err.code === code && parts.every((p) => err.message.includes(p));

class UserRow {
  constructor(
    public id: number,
    public email: string,
    public passwordHash: string,
  ) {}
  get domain(): string {
    return this.email.split('@')[1];
  }
}
registerSerializableClass(UserRow, { omit: ['passwordHash'] });

@CacheTags((a: Account) => [`Account_${a.id}`], { omit: ['apiToken'] })
class Account {
  constructor(
    public id: number,
    public apiToken: string,
  ) {}
}

/* A module of DTO classes, as `import * as dtos from './dtos'` gives it. */
const dtos = {
  ArticleDto: class ArticleDto {
    title = '';
    get shout(): string {
      return this.title.toUpperCase();
    }
  },
  AuthorDto: class AuthorDto {
    name = '';
  },
  toDto: (title: string) => title,
  VERSION: 3,
};

/** An iterable wrapper of rows, shaped like an ORM's lazy collection. */
class Collection<T> {
  private items: T[] = [];
  constructor(readonly owner: object) {}
  add(item: T) {
    this.items.push(item);
  }
  *[Symbol.iterator]() {
    yield* this.items;
  }
}
class Author {
  id = 1;
  books = new Collection<string>(this);
}
registerSerializableClass(Author);

for (const store of storeCases) {
  describe(`cached classes on ${store.name}`, { skip: store.skip }, () => {
    let cache: TagCache;
    if (!store.skip) cache = store.make(PATIENT);
    after(() => cache?.close());
    // The row as the store holds it, not through Keyv (keyv 6's memory adapter does not read rows it did not write).
    const raw = async (key: string) => JSON.stringify(await (await storeOf<{ get(key: string): unknown }>(cache)).get(new KeyBuilder(cache.namespace).entry(key))) ?? '';

    it('omitted fields (a password hash, a token) never reach the store', async () => {
      const miss = await cache.wrap('user:1', () => new UserRow(1, 'ann@example.com', '$2b$12$secret-hash'));
      assert.equal(miss.passwordHash, '$2b$12$secret-hash', 'the caller of the miss gets its own value');
      const hit = await cache.wrap('user:1', () => new UserRow(1, 'x', 'x'));
      assert.ok(hit instanceof UserRow);
      assert.equal(hit.domain, 'example.com');
      assert.equal(hit.passwordHash, undefined);
      assert.ok((await raw('user:1')).includes('ann@example.com'), 'the row is in the store');
      assert.ok(!(await raw('user:1')).includes('secret-hash'));
      await cache.wrap('account:1', () => new Account(1, 'tok_live_123'));
      assert.ok(!(await raw('account:1')).includes('tok_live_123'));
      assert.equal((await cache.wrap('account:1', () => new Account(1, 'x'))).apiToken, undefined);
    });

    it('registerSerializableClasses registers a whole module of DTO classes at once', async () => {
      assert.deepEqual(registerSerializableClasses(dtos), ['ArticleDto', 'AuthorDto']);
      const make = () => Object.assign(new dtos.ArticleDto(), { title: 'hello' });
      await cache.wrap('article:1', make);
      const hit = await cache.wrap('article:1', make);
      assert.ok(hit instanceof dtos.ArticleDto);
      assert.equal(hit.shout, 'HELLO');
    });

    it('a class with #private fields is refused rather than revived without them', async () => {
      class Money {
        #cents: number;
        constructor(cents: number) {
          this.#cents = cents;
        }
        get euros() {
          return this.#cents / 100;
        }
      }
      registerSerializableClass(Money);
      await assert.rejects(cache.wrap('price:1', () => ({ price: new Money(250) })), isError('E_UNSERIALIZABLE_VALUE', 'instance of Money', '#private', 'at result.price'));
      await assert.rejects(cache.wrap('weak:1', () => ({ seen: new WeakSet() })), isError('E_UNSERIALIZABLE_VALUE', 'WeakSet', 'internal', 'at result.seen'));
    });

    it('an entity holding a collection wrapper says to cache plain data, not to register the wrapper', async () => {
      await assert.rejects(cache.wrap('author:1', () => new Author()), (err: unknown) => {
        assert.ok(isError('E_UNSERIALIZABLE_VALUE', 'instance of Collection', 'at result.books', 'toObject()')(err), String(err));
        assert.doesNotMatch((err as Error).message, /registerSerializableClass\(Collection\)/);
        return true;
      });
    });
  });
}
