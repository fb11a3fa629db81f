import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { OwnRedis } from '../support/redis-server.js';
import { Calls, createPhotoApp, PLATFORMS } from './support/photo-app.js';

/** Reads, writes, and reads again: every request must answer with the data, cache or no cache. */
async function exercise(app: INestApplication): Promise<void> {
  const http = () => request(app.getHttpServer());
  const { id } = (await http().post('/photos').send({ title: 'before' }).expect(201)).body as { id: number };
  assert.equal((await http().get(`/photos/${id}`).expect(200)).body.title, 'before');
  assert.equal((await http().get(`/photos/${id}`).expect(200)).body.title, 'before');
  await http().patch(`/photos/${id}`).send({ title: 'after' }).expect(200);
  assert.equal((await http().get(`/photos/${id}`).expect(200)).body.title, 'after');
  const list = (await http().get('/photos').expect(200)).body as { id: number; title: string }[];
  assert.deepEqual(list.find((photo) => photo.id === id), { id, title: 'after' });
}

describe('an app whose Redis is down still answers every request', () => {

  for (const platform of PLATFORMS) {
    it(`when Redis never answered (nothing listens on the port), on ${platform}`, async () => {
      const app = await createPhotoApp({ platform, database: { type: 'sqlite' }, cacheOptions: { store: 'redis://127.0.0.1:1', namespace: `t-${randomUUID()}`, timeoutMs: 200, invalidationTimeoutMs: 400 } });
      try {
        await exercise(app);
      } finally {
        await app.close();
      }
    });
  }

  it('when Redis goes away while the app runs', { skip: process.env.CACHE_TAGS_NO_REDIS === '1' && 'Redis is not installed' }, async () => {
    const redis = await OwnRedis.start();
    const app = await createPhotoApp({ database: { type: 'sqlite' }, cacheOptions: { store: redis.url, namespace: `t-${randomUUID()}`, timeoutMs: 200, invalidationTimeoutMs: 400 } });
    try {
      const http = () => request(app.getHttpServer());
      const calls = app.get(Calls);
      await http().post('/photos').send({ title: 'cached' }).expect(201);
      await http().get('/photos/1').expect(200);
      await http().get('/photos/1').expect(200);
      assert.equal(calls.of('GET /photos/:id'), 1, 'cached while Redis was up');

      await redis.stop();
      assert.equal((await http().get('/photos/1').expect(200)).body.title, 'cached');
      await exercise(app);
    } finally {
      await app.close();
      await redis.stop();
    }
  });
});
