import 'reflect-metadata';
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Injectable, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cached, CacheTagsError, getDefaultTagCache, TagCache } from '../../lib/index.js';
import { CachePage, CacheTagsModule, getTagCacheToken, InjectTagCache } from '../../lib/nestjs/index.js';
import { REDIS_URL, needs } from '../support/servers.js';

@Injectable()
class Greeter {
  runs = 0;

  @Cached({ tags: (name: string) => [`Name_${name}`] })
  async greet(name: string): Promise<string> {
    this.runs++;
    return `hello ${name}`;
  }

  @Cached({ cache: 'long', tags: (name: string) => [`Name_${name}`] })
  async farewell(name: string): Promise<string> {
    this.runs++;
    return `bye ${name}`;
  }
}

@Injectable()
class UsesNamedCache {
  constructor(@InjectTagCache('long') readonly long: TagCache) {}
}

/** A feature module that does not import CacheTagsModule: the global module serves it. */
@Module({ providers: [Greeter, UsesNamedCache], exports: [Greeter, UsesNamedCache] })
class FeatureModule {}

async function createApp(cacheTags: DynamicModule) {
  @Module({ imports: [cacheTags, FeatureModule] })
  class AppModule {}
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
  return app;
}

const CONFIG = 'CONFIG';
@Module({ providers: [{ provide: CONFIG, useValue: { namespace: `t-${randomUUID()}` } }], exports: [CONFIG] })
class ConfigModule {}

describe('CacheTagsModule', () => {
  it('provides its cache to every module and makes it the one @Cached methods use', async () => {
    const app = await createApp(CacheTagsModule.forRoot({ namespace: `t-${randomUUID()}`, caches: { long: { ttl: 0 } } }));
    try {
      const cache = app.get(TagCache);
      assert.equal(getDefaultTagCache(), cache);
      const greeter = app.get(Greeter);
      assert.equal(await greeter.greet('ada'), 'hello ada');
      assert.equal(await greeter.greet('ada'), 'hello ada');
      assert.equal(greeter.runs, 1);
      await cache.invalidateTags(['Name_ada']);
      await greeter.greet('ada');
      assert.equal(greeter.runs, 2);
    } finally {
      await app.close();
    }
  });

  it('the module\'s scope keeps one tenant\'s entries from another\'s', async () => {
    const tenant = new AsyncLocalStorage<string>();
    const app = await createApp(CacheTagsModule.forRoot({ namespace: `t-${randomUUID()}`, caches: { long: { ttl: 0 } }, scope: () => tenant.getStore() }));
    try {
      const greeter = app.get(Greeter);
      assert.equal(await tenant.run('acme', () => greeter.greet('ada')), 'hello ada');
      assert.equal(await tenant.run('acme', () => greeter.greet('ada')), 'hello ada');
      assert.equal(greeter.runs, 1, 'a hit within one tenant');
      await tenant.run('globex', () => greeter.greet('ada'));
      assert.equal(greeter.runs, 2, 'another tenant never reads the first one\'s entry');
      await assert.rejects(greeter.greet('ada'), { code: 'E_INVALID_KEY' }, 'a call outside any tenant is refused, never shared');
    } finally {
      await app.close();
    }
  });

  it('injects named caches by token, and @Cached({ cache: name }) uses them', async () => {
    const app = await createApp(CacheTagsModule.forRoot({ namespace: `t-${randomUUID()}`, caches: { long: { ttl: 0 } } }));
    try {
      const long = app.get<TagCache>(getTagCacheToken('long'));
      assert.ok(long instanceof TagCache);
      assert.notEqual(long, app.get(TagCache));
      assert.equal(app.get(UsesNamedCache).long, long);
      assert.match(long.namespace, /^t-.*:long$/);
      const greeter = app.get(Greeter);
      await greeter.farewell('bob');
      await app.get(TagCache).invalidateTags(['Name_bob']);
      await greeter.farewell('bob');
      assert.equal(greeter.runs, 1, 'an invalidation in the default cache leaves the named one alone');
      await long.invalidateTags(['Name_bob']);
      await greeter.farewell('bob');
      assert.equal(greeter.runs, 2);
    } finally {
      await app.close();
    }
  });

  it('forRootAsync builds the options with a factory that gets injected providers', async () => {
    const app = await createApp(
      CacheTagsModule.forRootAsync({
        imports: [ConfigModule],
        inject: [CONFIG],
        useFactory: (config: { namespace: string }) => ({ namespace: config.namespace, caches: { long: {} } }),
        cacheNames: ['long'],
      }),
    );
    try {
      const config = app.get<{ namespace: string }>(CONFIG);
      assert.equal(app.get(TagCache).namespace, config.namespace);
      assert.equal(app.get(UsesNamedCache).long.namespace, `${config.namespace}:long`);
    } finally {
      await app.close();
    }
  });

  it('names the cache that forRootAsync announced but its factory did not return', async () => {
    await assert.rejects(
      createApp(CacheTagsModule.forRootAsync({ useFactory: () => ({ caches: {} }), cacheNames: ['long'] })),
      (error: unknown) => error instanceof CacheTagsError && error.code === 'E_UNKNOWN_CACHE' && error.message.includes('"long"'),
    );
  });

  it('rejects bad @CachePage options when the decorator is applied, naming the option', () => {
    assert.throws(
      () => CachePage({ ttl: -1 }),
      (error: unknown) => error instanceof CacheTagsError && error.code === 'E_INVALID_OPTION' && /@CachePage.*ttl/.test(error.message),
    );
    assert.throws(
      () => CachePage({ tags: ['ok', 3 as unknown as string] }),
      (error: unknown) => error instanceof CacheTagsError && error.code === 'E_INVALID_TAG' && /@CachePage option tags: tag 1/.test(error.message),
    );
  });

  it('does not load TypeORM in an app that does not use it', () => {
    assert.deepEqual(
      Object.keys(require.cache).filter((path) => /[\\/]node_modules[\\/](typeorm|@mikro-orm)[\\/]/.test(path)),
      [],
    );
  });

  it('closes its Redis connections when the app closes', needs('redis'), async () => {
    const previousDefault = getDefaultTagCache();
    const app = await createApp(CacheTagsModule.forRoot({ store: REDIS_URL, namespace: `t-${randomUUID()}`, caches: { long: {} } }));
    await app.get(Greeter).greet('redis');
    await app.get(Greeter).farewell('redis');
    const caches = [app.get(TagCache), app.get(UsesNamedCache).long];
    const clients = await Promise.all(caches.map(async (cache) => (await cache.store()).store.client));
    assert.deepEqual(clients.map((client) => client.isOpen), [true, true]);
    await app.close();
    assert.deepEqual(clients.map((client) => client.isOpen), [false, false]);
    assert.equal(getDefaultTagCache(), previousDefault, 'a closed cache does not stay the default');
  });

  it('leaves no open handle behind: a process that closes its app exits by itself', needs('redis'), () => {
    // The child would hang until killed if a socket or timer of the cache were left open.
    const child = spawnSync(process.execPath, [join(__dirname, 'support', 'close-app.js')], {
      env: { ...process.env, CACHE_TAGS_REDIS_URL: REDIS_URL },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(child.signal, null, `the process did not exit by itself; stderr: ${child.stderr}`);
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), 'hello redis');
  });
});
