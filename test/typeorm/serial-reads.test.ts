import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { TagCache } from '../../lib/index.js';
import { databaseCases } from './support/databases.js';
import { Photo } from './support/entities.js';
import { useDatabase } from './support/harness.js';
import { seed } from './support/seed.js';

/*
 * TypeORM runs the after-hooks of one statement's rows concurrently, and the hooks read rows on the
 * writer's connection. pg queues a query sent while another runs on the same client, warns that
 * pg 9 will reject it, and says so only once per process: so this suite watches pg's own queue,
 * the condition behind that warning, rather than the warning.
 */
const postgres = databaseCases.find((db) => db.name === 'postgres')!;

describe('TypeORM on PostgreSQL: cache-tags never sends a query while another runs on the same connection', { skip: postgres.skip }, () => {
  const h = useDatabase(postgres, () => new TagCache());
  const overlapping: string[] = [];
  const query = Object.getOwnPropertyDescriptor(Client.prototype, 'query')!.value as (...args: unknown[]) => unknown;

  before(() => {
    Client.prototype.query = function (this: Client & { _queryQueue: unknown[]; _activeQuery?: unknown }, ...args: any[]) {
      if (this._queryQueue.length > 0 || this._activeQuery) overlapping.push(String(typeof args[0] === 'string' ? args[0] : args[0]?.text).slice(0, 80));
      return query.apply(this, args);
    } as typeof Client.prototype.query;
  });
  after(() => {
    Client.prototype.query = query as typeof Client.prototype.query;
  });

  it('a many-to-many save that removes and adds several links reads the linked rows one query at a time', async () => {
    const s = await seed(h.dataSource);
    const photos = h.dataSource.getRepository(Photo);
    const photo = await photos.findOneOrFail({ where: { id: s.p1.id }, relations: { tags: true } });
    photo.tags = [s.t1, s.t2, s.t3];
    await photos.save(photo);
    photo.tags = [];
    overlapping.length = 0;
    await h.probe.expect(() => photos.save(photo), { changed: [`Tag_${s.t1.id}`, `Tag_${s.t2.id}`, `Tag_${s.t3.id}`, `Photo_${s.p1.id}`] });
    assert.deepEqual(overlapping, []);
  });
});
