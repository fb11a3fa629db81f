import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Cached, CacheTags, CacheTagsError, registerTagCache, setDefaultScope, unregisterTagCache, type TagCache } from '../../lib/index.js';
import { storeCases } from '../support/stores.js';

/** On a loaded machine a slow store answer is a fail-open miss; these tests are about keys, not timeouts. */
const PATIENT = { timeoutMs: 5000 };

const isError = (code: string, ...parts: string[]) => (err: unknown) =>
  err instanceof CacheTagsError && err.code === code && parts.every((p) => err.message.includes(p));

/** A deeply nested array, as a crafted request body could make. */
function nested(depth: number): unknown[] {
  let value: unknown[] = [];
  for (let i = 0; i < depth; i += 1) value = [value];
  return value;
}

/*
 * A module written to disk and loaded with require, as an app's service module is: loading it
 * again after deleting it from require.cache is what Jest's resetModules and hot reload do. The
 * decorator is applied by hand (plain JavaScript, as tsc emits it), on the same line in every
 * version, so that only what the test changes differs between versions.
 */
const dir = mkdtempSync(join(tmpdir(), 'ct-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const LIB = join(__dirname, '../../lib/index.js');
const runs: string[] = [];
(globalThis as { __ctRuns?: string[] }).__ctRuns = runs;

function loadService(file: string, cacheName: string, body: string, options = ''): { build(id: number): Promise<string> } {
  const path = join(dir, file);
  writeFileSync(
    path,
    [
      `const { Cached } = require(${JSON.stringify(LIB)});`,
      `class ReportService { async build(id) { ${body} } }`,
      `const d = Object.getOwnPropertyDescriptor(ReportService.prototype, 'build'); Object.defineProperty(ReportService.prototype, 'build', Cached({ cache: ${JSON.stringify(cacheName)}, ${options} })(ReportService.prototype, 'build', d));`,
      'module.exports = { ReportService };',
    ].join('\n'),
  );
  delete require.cache[require.resolve(path)];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ReportService } = require(path) as { ReportService: new () => { build(id: number): Promise<string> } };
  return new ReportService();
}

for (const store of storeCases) {
  describe(`@Cached keys on ${store.name}`, { skip: store.skip }, () => {
    const cacheName = `keys-${randomUUID()}`;
    let cache: TagCache;
    if (!store.skip) {
      cache = store.make(PATIENT);
      registerTagCache(cacheName, cache);
    }
    after(async () => {
      unregisterTagCache(cacheName, cache);
      await cache?.close();
    });

    it('URL arguments are told apart by their href', async () => {
      class Fetcher {
        @Cached({ cache: cacheName })
        async get(url: URL) {
          return url.pathname;
        }
      }
      const f = new Fetcher();
      assert.equal(await f.get(new URL('https://example.com/a')), '/a');
      assert.equal(await f.get(new URL('https://example.com/b')), '/b');
    });

    it('an argument of a class with #private fields is refused, naming the argument and the class', async () => {
      class Token {
        readonly #secret: string;
        constructor(secret: string) {
          this.#secret = secret;
        }
        get length() {
          return this.#secret.length;
        }
      }
      let calls = 0;
      class Guard {
        @Cached({ cache: cacheName })
        async check(_user: string, options: { token: Token }) {
          calls += 1;
          return options.token.length;
        }
      }
      await assert.rejects(new Guard().check('ann', { token: new Token('a') }), isError('E_UNENCODABLE_ARGUMENT', 'Guard.check', 'argument 1', 'Token', 'at token', '#private'));
      await assert.rejects(new Guard().check('ann', { token: new Token('bb') }), isError('E_UNENCODABLE_ARGUMENT'));
      assert.equal(calls, 0, 'nothing ran under a key that could not tell the calls apart');
    });

    it('a built-in whose state is internal is refused rather than encoded as {}', async () => {
      class Lookup {
        @Cached({ cache: cacheName })
        async find(_filter: unknown) {
          return 1;
        }
      }
      await assert.rejects(new Lookup().find({ when: new WeakMap() }), isError('E_UNENCODABLE_ARGUMENT', 'Lookup.find', 'argument 0', 'WeakMap', 'at when'));
      await assert.rejects(new Lookup().find(new Error('a')), isError('E_UNENCODABLE_ARGUMENT', 'Error'));
    });

    it('an argument nested 20,000 deep is a clear error, not a RangeError', async () => {
      class Tree {
        @Cached({ cache: cacheName })
        async size(_tree: unknown[]) {
          return 1;
        }
      }
      await assert.rejects(new Tree().size(nested(20_000)), isError('E_UNENCODABLE_ARGUMENT', 'Tree.size', 'argument 0', 'nested more than'));
      // The value side too: a result nested that deep cannot be stored, and says so.
      await assert.rejects(cache.wrap(`deep-${randomUUID()}`, () => nested(20_000)), isError('E_UNSERIALIZABLE_VALUE', 'nested more than'));
    });

    it('two classes of one name (one per test case, or two modules) both work and share nothing', async () => {
      const make = (answer: string) => {
        class UsersService {
          @Cached({ cache: cacheName })
          async find(id: number) {
            return `${answer} ${id}`;
          }
        }
        return new UsersService();
      };
      const first = make('first');
      const second = make('second');
      assert.equal(await first.find(1), 'first 1');
      assert.equal(await second.find(1), 'second 1');
      assert.equal(await first.find(1), 'first 1');
      assert.equal(await second.find(1), 'second 1');
    });

    it('a module evaluated again (a fresh require) reads the entries the first evaluation stored', async () => {
      const file = `reloaded-${store.name}.js`;
      const body = `globalThis.__ctRuns.push('reloaded on ${store.name}'); return 'report ' + id;`;
      assert.equal(await loadService(file, cacheName, body).build(1), 'report 1');
      assert.equal(await loadService(file, cacheName, body).build(1), 'report 1');
      assert.equal(runs.filter((r) => r === `reloaded on ${store.name}`).length, 1, 'the second evaluation was served from the cache');
    });

    it('a changed method body or tag declaration starts a fresh key space: old entries are not served', async () => {
      const file = `deployed-${store.name}.js`;
      const v1 = `globalThis.__ctRuns.push('v1 on ${store.name}'); return 'v1 ' + id;`;
      const v2 = `globalThis.__ctRuns.push('v2 on ${store.name}'); return 'v2 ' + id;`;
      assert.equal(await loadService(file, cacheName, v1, "tags: (id) => ['Report_' + id]").build(7), 'v1 7');
      assert.equal(await loadService(file, cacheName, v2, "tags: (id) => ['Report_' + id]").build(7), 'v2 7', 'a new body');
      assert.equal(await loadService(file, cacheName, v2, "tags: (id) => ['Report_' + id, 'Reports']").build(7), 'v2 7');
      assert.deepEqual(runs.filter((r) => r.endsWith(` on ${store.name}`) && r.startsWith('v')), [`v1 on ${store.name}`, `v2 on ${store.name}`, `v2 on ${store.name}`], 'a new tag declaration');
      // An explicit codeVersion decides alone: a body that changed under the same one shares entries.
      assert.equal(await loadService(file, cacheName, v1, "codeVersion: '3'").build(8), 'v1 8');
      assert.equal(await loadService(file, cacheName, v2, "codeVersion: '3'").build(8), 'v1 8');
      assert.equal(await loadService(file, cacheName, v2, "codeVersion: '4'").build(8), 'v2 8');
    });

    it('a tenant-scoped provider keeps one entry per tenant', async () => {
      class TenantRepo {
        constructor(readonly tenantId: string) {}
        @Cached({ cache: cacheName, scope: (self: TenantRepo) => self.tenantId })
        async name() {
          return `name of ${this.tenantId}`;
        }
      }
      assert.equal(await new TenantRepo('acme').name(), 'name of acme');
      assert.equal(await new TenantRepo('globex').name(), 'name of globex');
      assert.equal(await new TenantRepo('acme').name(), 'name of acme');
      class Unscoped {
        tenantId: string | undefined = undefined;
        @Cached({ cache: cacheName, scope: (self: Unscoped) => self.tenantId })
        async name() {
          return 'shared?';
        }
      }
      await assert.rejects(new Unscoped().name(), isError('E_INVALID_KEY', 'Unscoped.name', 'option scope returned undefined'));
    });

    it('a default scope set on the cache separates every method that has none of its own', async () => {
      let tenant = 'acme';
      class Settings {
        @Cached({ cache: cacheName })
        async theme() {
          return `theme of ${tenant}`;
        }
        @Cached({ cache: cacheName, scope: false })
        async version() {
          return `version seen by ${tenant}`;
        }
      }
      setDefaultScope(cache, () => tenant);
      try {
        const s = new Settings();
        assert.equal(await s.theme(), 'theme of acme');
        assert.equal(await s.version(), 'version seen by acme');
        tenant = 'globex';
        assert.equal(await s.theme(), 'theme of globex');
        assert.equal(await s.version(), 'version seen by acme', 'scope: false opts out');
      } finally {
        setDefaultScope(cache, undefined);
      }
    });

    it('rowVersion keys an entry by the version the caller holds: a hit reads no tag, an old version is never read again', async () => {
      interface Comment {
        id: number;
        body: string;
        updatedAt: Date;
      }
      let renders = 0;
      class CommentView {
        @Cached({ cache: cacheName, key: (c: Comment) => `comment:${c.id}`, rowVersion: (c: Comment) => c.updatedAt })
        async render(c: Comment) {
          renders += 1;
          return `<p>${c.body}</p>`;
        }
      }
      const hits: { key: string; tags: string[] }[] = [];
      const off = cache.on('hit', (event) => hits.push(event));
      try {
        const view = new CommentView();
        const v1 = { id: 1, body: 'first', updatedAt: new Date(1000) };
        const v2 = { id: 1, body: 'edited', updatedAt: new Date(2000) };
        assert.equal(await view.render(v1), '<p>first</p>');
        assert.equal(await view.render(v1), '<p>first</p>');
        assert.equal(renders, 1);
        assert.deepEqual(hits.map((h) => h.tags), [[]], 'the hit depended on no tag');
        assert.equal(await view.render(v2), '<p>edited</p>');
        assert.equal(await view.render(v2), '<p>edited</p>');
        assert.equal(renders, 2);
        assert.ok(hits.every((h) => !h.key.includes('first')));
      } finally {
        off();
      }
    });

    it('the options say which version is which: version is refused with a pointer to both', () => {
      assert.throws(() => Cached({ version: () => 1 } as never), isError('E_INVALID_OPTION', 'unknown option version', 'rowVersion', 'codeVersion'));
      assert.throws(() => Cached({ codeVersion: 3 } as never), isError('E_INVALID_OPTION', 'codeVersion'));
    });

    it('entity classes declared again with the same source (a module evaluated again) register without error', () => {
      const declare = () => {
        @CacheTags((p: Photo) => [`Photo_${p.id}`])
        class Photo {
          id = 1;
        }
        return Photo;
      };
      declare();
      assert.doesNotThrow(declare);
    });
  });
}
