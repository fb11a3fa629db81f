import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { TagCache } from '../../lib/index.js';
import { REDIS_URL, needs } from '../support/servers.js';
import { scratchPostgresDatabase } from '../support/scratch-databases.js';
import { Calls, createPhotoApp, PLATFORMS, type Database } from './support/photo-app.js';
import { randomUUID } from 'node:crypto';

interface Backend {
  name: string;
  skip: string | false;
  database(): Promise<{ database: Database; drop?: () => Promise<void> }>;
  store?: string;
}

const backends: Backend[] = [
  { name: 'SQLite + memory store', skip: false, database: async () => ({ database: { type: 'sqlite' } }) },
  {
    name: 'PostgreSQL + Redis',
    skip: needs('postgres').skip || needs('redis').skip,
    store: REDIS_URL,
    database: async () => {
      const { database, drop } = await scratchPostgresDatabase('ct_nest');
      return { database: { type: 'postgres', host: '127.0.0.1', port: 5432, username: process.env.PGUSER ?? 'root', database }, drop };
    },
  },
];

for (const platform of PLATFORMS)
for (const backend of backends) {
  describe(`@CachePage over HTTP on ${platform} (${backend.name})`, { skip: backend.skip }, () => {
    let app: INestApplication;
    let calls: Calls;
    let drop: (() => Promise<void>) | undefined;
    const http = () => request(app.getHttpServer());
    const write = async (method: 'post' | 'patch', path: string, body: object) => {
      const res = await http()[method](path).send(body).expect(method === 'post' ? 201 : 200);
      return res.body as { id: number; title: string };
    };

    before(async () => {
      const db = await backend.database();
      drop = db.drop;
      app = await createPhotoApp({ platform, database: db.database, cacheOptions: { store: backend.store, namespace: `t-${randomUUID()}` } });
      calls = app.get(Calls);
      await write('post', '/photos', { title: 'first' });
      await write('post', '/photos', { title: 'second' });
    });
    after(async () => {
      await app?.close();
      await drop?.();
    });

    it('serves the second GET from the cache, and the new data after a write through another endpoint', async () => {
      const first = await http().get('/photos/1').expect(200);
      const second = await http().get('/photos/1').expect(200);
      assert.deepEqual(second.body, { id: 1, title: 'first' });
      assert.equal(second.text, first.text);
      assert.equal(calls.of('GET /photos/:id'), 1, 'the handler ran once');
      assert.match(String(second.headers['content-type']), /^application\/json; charset=utf-8$/);

      await write('patch', '/photos/1', { title: 'renamed' });
      const third = await http().get('/photos/1').expect(200);
      assert.deepEqual(third.body, { id: 1, title: 'renamed' });
      assert.equal(calls.of('GET /photos/:id'), 2);
      assert.notEqual(third.headers.etag, first.headers.etag);
    });

    it('takes the tags the handler\'s @Cached services bubble up: a list page without declared tags follows writes', async () => {
      const before = calls.of('GET /photos');
      assert.deepEqual((await http().get('/photos').expect(200)).body.map((p: { title: string }) => p.title), ['renamed', 'second']);
      await http().get('/photos').expect(200);
      assert.equal(calls.of('GET /photos'), before + 1);
      await write('post', '/photos', { title: 'third' });
      assert.deepEqual((await http().get('/photos').expect(200)).body.map((p: { title: string }) => p.title), ['renamed', 'second', 'third']);
      assert.equal(calls.of('GET /photos'), before + 2);
    });

    it('takes the tags of the entities the handler loads: a page that declares no tags follows writes to its row', async () => {
      const { id } = await write('post', '/photos', { title: 'direct' });
      const before = calls.of('GET /photos/:id/direct');
      await http().get(`/photos/${id}/direct`).expect(200);
      await http().get(`/photos/${id}/direct`).expect(200);
      assert.equal(calls.of('GET /photos/:id/direct'), before + 1);
      await write('patch', `/photos/${id}`, { title: 'direct, renamed' });
      assert.equal((await http().get(`/photos/${id}/direct`).expect(200)).body.title, 'direct, renamed');
    });

    it('answers 304 to a matching If-None-Match, on the first response and on cached ones, and 200 once the page changed', async () => {
      const first = await http().get('/photos/2').expect(200);
      const etag = first.headers.etag;
      assert.match(String(etag), /^"[\w-]+"$/);
      const notModified = await http().get('/photos/2').set('If-None-Match', etag).expect(304);
      assert.equal(notModified.text, '');
      assert.equal(notModified.headers.etag, etag);
      await write('patch', '/photos/2', { title: 'second, renamed' });
      const changed = await http().get('/photos/2').set('If-None-Match', etag).expect(200);
      assert.equal(changed.body.title, 'second, renamed');
    });

    it('answers HEAD from the GET entry, and keeps the content type the handler set', async () => {
      const { id } = await write('post', '/photos', { title: 'plain text' });
      const before = calls.of('GET /photos/:id/title');
      const head = await http().head(`/photos/${id}/title`).expect(200);
      assert.equal(head.text, undefined);
      const get = await http().get(`/photos/${id}/title`).expect(200);
      assert.equal(get.text, 'plain text');
      assert.equal(get.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(get.headers.etag, head.headers.etag);
      assert.equal(calls.of('GET /photos/:id/title'), before + 1);
    });

    it('shares one page between orderings of the same query, and separates different queries', async () => {
      const before = calls.of('GET /photos/:id');
      await http().get('/photos/1?a=1&b=2').expect(200);
      await http().get('/photos/1?b=2&a=1').expect(200);
      assert.equal(calls.of('GET /photos/:id'), before + 1);
      await http().get('/photos/1?a=2&b=2').expect(200);
      assert.equal(calls.of('GET /photos/:id'), before + 2);
    });

    it('never serves one user\'s page to another', async () => {
      // No vary: requests with credentials are never cached.
      assert.equal((await http().get('/users/greeting').set('Authorization', 'Bearer alice').expect(200)).text, 'hello alice');
      assert.equal((await http().get('/users/greeting').set('Authorization', 'Bearer bob').expect(200)).text, 'hello bob');
      assert.equal((await http().get('/users/greeting').set('Cookie', 'sid=1').expect(200)).text, 'hello guest');
      assert.equal(calls.of('GET /users/greeting'), 3);
      // vary: ['Authorization'] keeps one page per token.
      assert.deepEqual((await http().get('/users/me').set('Authorization', 'Bearer alice').expect(200)).body, { name: 'alice' });
      assert.deepEqual((await http().get('/users/me').set('Authorization', 'Bearer bob').expect(200)).body, { name: 'bob' });
      const again = await http().get('/users/me').set('Authorization', 'Bearer alice').expect(200);
      assert.deepEqual(again.body, { name: 'alice' });
      assert.equal(again.headers.vary, 'authorization');
      assert.equal(calls.of('GET /users/me'), 2);
      // vary by a function of what the guard put on the request.
      assert.deepEqual((await http().get('/users/guarded').set('Authorization', 'Bearer carol').expect(200)).body, { name: 'carol' });
      assert.deepEqual((await http().get('/users/guarded').set('Authorization', 'Bearer dave').expect(200)).body, { name: 'dave' });
      await http().get('/users/guarded').set('Authorization', 'Bearer carol').expect(200);
      assert.equal(calls.of('GET /users/guarded'), 2);
    });

    it('does not store responses that set a cookie, say no-store, or have a status outside 2xx', async () => {
      const cookies = [await http().get('/users/session').expect(200), await http().get('/users/session').expect(200)];
      assert.deepEqual(
        cookies.map((r) => String(r.headers['set-cookie'])),
        ['sid=1; HttpOnly', 'sid=2; HttpOnly'],
      );
      await http().get('/users/no-store').expect(200);
      const noStore = await http().get('/users/no-store').expect(200);
      assert.equal(noStore.headers['cache-control'], 'no-store');
      await http().get('/users/teapot').expect(418);
      await http().get('/users/teapot').expect(418);
      await http().get('/photos/99').expect(404);
      await http().get('/photos/99').expect(404);
      assert.deepEqual(
        ['GET /users/session', 'GET /users/no-store', 'GET /users/teapot', 'GET /photos/:id'].map((name) => calls.of(name) > 1),
        [true, true, true, true],
      );
    });

    it('caches a 404 when the route asks for it, until a write creates the row', async () => {
      const next = Math.max(...(await http().get('/photos').expect(200)).body.map((p: { id: number }) => p.id)) + 1;
      const before = calls.of('GET /photos/:id/or-404');
      const first = await http().get(`/photos/${next}/or-404`).expect(404);
      const second = await http().get(`/photos/${next}/or-404`).expect(404);
      assert.deepEqual(second.body, { statusCode: 404, message: `No photo ${next}`, error: 'Not Found' });
      assert.deepEqual(second.body, first.body);
      assert.equal(calls.of('GET /photos/:id/or-404'), before + 1);
      assert.equal((await write('post', '/photos', { title: 'next' })).id, next);
      assert.equal((await http().get(`/photos/${next}/or-404`).expect(200)).body.title, 'next');
    });

    it('runs the handler for each of concurrent requests whose response may not be stored', async () => {
      const before = calls.of('GET /users/session');
      const responses = await Promise.all([1, 2, 3].map(() => http().get('/users/session').expect(200)));
      assert.equal(new Set(responses.map((r) => String(r.headers['set-cookie']))).size, 3, 'each request got its own cookie');
      assert.equal(calls.of('GET /users/session'), before + 3);
    });

    it('says X-Cache: MISS when the handler ran and HIT when the page came from the cache, on GET, HEAD and 304 alike', async () => {
      const { id } = await write('post', '/photos', { title: 'x-cache' });
      const miss = await http().get(`/photos/${id}`).expect(200);
      assert.equal(miss.headers['x-cache'], 'MISS');
      const hit = await http().get(`/photos/${id}`).expect(200);
      assert.equal(hit.headers['x-cache'], 'HIT');
      assert.equal(hit.text, miss.text);
      assert.equal((await http().head(`/photos/${id}`).expect(200)).headers['x-cache'], 'HIT');
      assert.equal((await http().get(`/photos/${id}`).set('If-None-Match', String(hit.headers.etag)).expect(304)).headers['x-cache'], 'HIT');
      assert.equal((await http().get('/users/session').expect(200)).headers['x-cache'], 'MISS', 'a page that is not stored is a miss each time');
    });

    it('caches pages rendered with @Render: the handler runs once, the template renders its result, and a write shows', async () => {
      const { id } = await write('post', '/photos', { title: 'rendered' });
      const before = calls.of('GET /pages/photos/:id');
      const first = await http().get(`/pages/photos/${id}`).expect(200);
      assert.equal(first.text, '<h1>rendered</h1>\n');
      assert.match(String(first.headers['content-type']), /^text\/html/);
      const second = await http().get(`/pages/photos/${id}`).expect(200);
      assert.equal(second.text, first.text);
      assert.equal(second.headers['x-cache'], 'HIT');
      assert.equal(calls.of('GET /pages/photos/:id'), before + 1);
      await write('patch', `/photos/${id}`, { title: 'rendered again' });
      assert.equal((await http().get(`/pages/photos/${id}`).expect(200)).text, '<h1>rendered again</h1>\n');
      assert.equal(calls.of('GET /pages/photos/:id'), before + 2);
    });

    it('uses the module\'s cache, which the app can inject', () => {
      assert.ok(app.get(TagCache) instanceof TagCache);
    });
  });
}
