import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { createClient } from 'redis';
import request from 'supertest';
import { KeyBuilder } from '../../lib/core/keys.js';
import { TagCache } from '../../lib/index.js';
import { REDIS_URL, needs } from '../support/servers.js';
import { createPhotoApp } from './support/photo-app.js';

const stores = [
  { name: 'memory', skip: false as string | false, store: undefined as string | undefined },
  { name: 'redis', skip: needs('redis').skip, store: REDIS_URL },
];

for (const backend of stores) {
  describe(`@CachePage with vary on credentials (${backend.name})`, { skip: backend.skip }, () => {
    const namespace = `t-${randomUUID()}`;
    const token = `tok_${randomUUID()}`;
    let app: INestApplication;
    const events: unknown[] = [];
    const entryKeys = new Set<string>();

    before(async () => {
      app = await createPhotoApp({ database: { type: 'sqlite' }, cacheOptions: { store: backend.store, namespace, timeoutMs: 5000 } });
      const cache = app.get(TagCache);
      for (const name of ['hit', 'miss', 'set', 'stale'] as const) {
        cache.on(name, (payload) => {
          events.push({ name, ...payload });
          entryKeys.add(new KeyBuilder(namespace).entry(payload.key));
        });
      }
    });
    after(() => app?.close());

    it('a page varied by Authorization keeps one entry per token, and neither its store key nor any event holds the token', async () => {
      for (let i = 0; i < 2; i += 1) {
        assert.deepEqual((await request(app.getHttpServer()).get('/users/me').set('Authorization', `Bearer ${token}`).expect(200)).body, { name: token });
        assert.deepEqual((await request(app.getHttpServer()).get('/users/guarded').set('Authorization', `Bearer ${token}`).expect(200)).body, { name: token });
      }
      assert.deepEqual((await request(app.getHttpServer()).get('/users/me').set('Authorization', 'Bearer other').expect(200)).body, { name: 'other' });
      assert.ok(events.some((e) => (e as { name: string }).name === 'hit'), 'the second requests were hits');
      assert.ok(!JSON.stringify(events).includes(token), `no event carries the token: ${JSON.stringify(events)}`);
      let storeKeys = [...entryKeys];
      if (backend.store) {
        // What is really in Redis under this namespace, not what the events say.
        const client = createClient({ url: backend.store });
        await client.connect();
        try {
          storeKeys = [];
          for await (const batch of client.scanIterator({ MATCH: `*${namespace}*`, COUNT: 100 })) storeKeys.push(...([] as string[]).concat(batch));
          if (storeKeys.length > 0) await client.del(storeKeys);
        } finally {
          await client.quit();
        }
      }
      assert.ok(storeKeys.length >= 2, `the pages were stored: ${storeKeys.join(', ')}`);
      for (const key of storeKeys) assert.ok(!key.includes(token), `store key ${key} holds no token`);
    });
  });
}
