import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConsoleLogger, Controller, Get, Logger, type LoggerService, Module, Scope } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import request from 'supertest';
import { CacheTagsError, TagCache } from '../../lib/index.js';
import { CachePage, CacheTagsModule } from '../../lib/nestjs/index.js';
import { nestCacheLogger } from '../../lib/nestjs/nest-logger.js';
import { createPhotoApp, PLATFORMS } from './support/photo-app.js';

/** A Nest logger that keeps what it is told, by level and context. */
class RecordingLogger implements LoggerService {
  readonly lines: { level: string; message: string; context: string | undefined }[] = [];
  private record(level: string, message: unknown, params: unknown[]): void {
    const context = params.at(-1);
    this.lines.push({ level, message: String(message), context: typeof context === 'string' ? context : undefined });
  }
  log(message: unknown, ...params: unknown[]) { this.record('log', message, params); }
  error(message: unknown, ...params: unknown[]) { this.record('error', message, params); }
  warn(message: unknown, ...params: unknown[]) { this.record('warn', message, params); }
  debug(message: unknown, ...params: unknown[]) { this.record('debug', message, params); }
  verbose(message: unknown, ...params: unknown[]) { this.record('verbose', message, params); }
  of(context: string) {
    return this.lines.filter((line) => line.context === context);
  }
}

@Controller('hello')
class HelloController {
  @Get()
  @CachePage()
  hello(): string {
    return 'hello';
  }
}

/** Request-scoped: Nest makes its instances per request, none at start-up. */
@Controller({ path: 'scoped', scope: Scope.REQUEST })
class ScopedController {
  @Get()
  @CachePage()
  scoped(): string {
    return 'scoped';
  }
}

/*
 * No third-party Nest HTTP adapter is installed: this Express adapter that reports another type
 * stands for one (Nest picks the adapter's behaviour by that type too).
 */
class OtherAdapter extends ExpressAdapter {
  override getType(): string {
    return 'h3';
  }
}

describe('@CachePage and the application\'s HTTP adapter', () => {
  for (const [controller, route] of [[HelloController, 'HelloController.hello'], [ScopedController, 'ScopedController.scoped']] as const) {
    it(`fails at start-up, naming the adapter and the route, on an adapter it cannot serve (${route})`, async () => {
      @Module({ imports: [CacheTagsModule.forRoot({ namespace: `t-${randomUUID()}` })], controllers: [controller] })
      class AppModule {}
      const app = await NestFactory.create(AppModule, new OtherAdapter(), { logger: false, abortOnError: false });
      await assert.rejects(app.init(), (error: unknown) => {
        assert.ok(error instanceof CacheTagsError);
        assert.ok(error.message.includes(`@CachePage on ${route}`), error.message);
        assert.match(error.message, /HTTP adapter "h3" \(OtherAdapter\)/);
        return true;
      });
      await app.close();
    });
  }

  it('lets an app without @CachePage routes start on any adapter', async () => {
    @Module({ imports: [CacheTagsModule.forRoot({ namespace: `t-${randomUUID()}` })] })
    class AppModule {}
    const app = await NestFactory.create(AppModule, new OtherAdapter(), { logger: false, abortOnError: false });
    await app.init();
    await app.close();
  });
});

for (const platform of PLATFORMS) {
  describe(`cache-tags logs through Nest's Logger (${platform})`, () => {
    it('says at debug level why a page was not stored, and a store failure as a warning of context CacheTags', async () => {
      const logger = new RecordingLogger();
      const app = await createPhotoApp({
        platform,
        logger,
        database: { type: 'sqlite' },
        cacheOptions: { store: 'redis://127.0.0.1:1', namespace: `t-${randomUUID()}`, timeoutMs: 200 },
      });
      try {
        await request(app.getHttpServer()).get('/users/session').expect(200);
        await request(app.getHttpServer()).get('/users/greeting').set('Authorization', 'Bearer alice').expect(200);
        const pages = logger.of('CachePage');
        assert.ok(pages.every((line) => line.level === 'debug'), 'not storing a page is no warning');
        assert.ok(pages.some((line) => /UsersController\.session: response to GET \/users\/session not stored: it sets a cookie/.test(line.message)), JSON.stringify(pages));
        assert.ok(pages.some((line) => /UsersController\.greeting: GET \/users\/greeting is not cached/.test(line.message)), JSON.stringify(pages));
        const store = logger.of('CacheTags');
        assert.ok(store.some((line) => line.level === 'warn' && /store .* failed/.test(line.message)), JSON.stringify(store));
      } finally {
        await app.close();
      }
    });

    it('names the cache-outcome header as the module says, or sends none', async () => {
      for (const [cachePageHeader, name] of [['X-Page-Cache', 'x-page-cache'], [false, undefined]] as const) {
        const app = await createPhotoApp({ platform, database: { type: 'sqlite' }, cacheOptions: { namespace: `t-${randomUUID()}`, cachePageHeader } });
        try {
          await request(app.getHttpServer()).post('/photos').send({ title: 'one' }).expect(201);
          const res = await request(app.getHttpServer()).get('/photos').expect(200);
          assert.equal(res.headers['x-cache'], undefined);
          if (name) assert.equal(res.headers[name], 'MISS');
          else assert.ok(!Object.values(res.headers).includes('MISS'));
        } finally {
          await app.close();
        }
      }
    });
  });
}

describe('CacheTagsModule option cachePageHeader', () => {
  it('must be a header name or false', async () => {
    @Module({ imports: [CacheTagsModule.forRoot({ cachePageHeader: 'X Cache' })] })
    class AppModule {}
    await assert.rejects(NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false }), /option cachePageHeader must be a header name or false, got "X Cache"/);
  });
});

describe('The cache of CacheTagsModule', () => {
  it('counts the hits, misses and invalidations of HTTP requests in stats()', async () => {
    const app = await createPhotoApp({ platform: 'express', database: { type: 'sqlite' }, cacheOptions: { namespace: `t-${randomUUID()}` } });
    try {
      const cache = app.get(TagCache);
      await request(app.getHttpServer()).post('/photos').send({ title: 'one' }).expect(201);
      const written = cache.stats();
      await request(app.getHttpServer()).get('/photos').expect(200).expect('x-cache', 'MISS');
      await request(app.getHttpServer()).get('/photos').expect(200).expect('x-cache', 'HIT');
      await request(app.getHttpServer()).post('/photos').send({ title: 'two' }).expect(201);
      const stats = cache.stats();
      assert.ok(written.invalidations.calls >= 1, 'the insert invalidated');
      assert.equal(stats.hits - written.hits, 1, 'the second GET hit');
      assert.ok(stats.stored > written.stored, 'the first GET stored');
      assert.ok(stats.invalidations.calls > written.invalidations.calls, 'the second insert invalidated');
    } finally {
      await app.close();
    }
  });
});

describe('The cache logger of the Nest module', () => {
  it('maps each level of cache-tags to Nest\'s: error, warn, info as log, debug', () => {
    const recording = new RecordingLogger();
    Logger.overrideLogger(recording);
    try {
      const logger = nestCacheLogger();
      logger.error!('e', new Error('boom'));
      logger.warn('w');
      logger.info!('i');
      logger.debug!('d', { tag: 'T' });
    } finally {
      Logger.overrideLogger(new ConsoleLogger());
    }
    assert.deepEqual(recording.of('CacheTags').map((line) => [line.level, line.message]), [
      ['error', 'e (Error: boom)'],
      ['warn', 'w'],
      ['log', 'i'],
      ['debug', 'd ({"tag":"T"})'],
    ]);
  });
});
