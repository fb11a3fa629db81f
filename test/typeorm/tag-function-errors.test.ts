import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Column, Entity, PrimaryGeneratedColumn, type DataSource } from 'typeorm';
import { CacheTags, TagCache } from '../../lib/index.js';
import { installCacheTags, type TypeOrmWriteSource } from '../../lib/typeorm/index.js';
import { databaseCases } from './support/databases.js';
import { TagProbe } from './support/probe.js';

/** A tag function with a bug: it throws for one title. */
@CacheTags((note: Memo) => {
  if (note.title === 'boom') throw new Error('tag function broke on boom');
  return [`Memo_${note.id}`, `Owner_${note.owner}_memos`];
})
@Entity()
class Memo {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @Column({ type: 'int' }) owner!: number;
}

/*
 * A tag function that throws runs after the write reached the database: the write is kept, the
 * entity's type-level tag (and the tags of the rows whose function worked) are invalidated, and the
 * failure is reported. Before, these writes returned an error with nothing invalidated.
 */
for (const db of databaseCases) {
  describe(`TypeORM: a throwing tag function never leaves the cache stale, on ${db.name}`, { skip: db.skip }, () => {
    let dataSource: DataSource;
    let drop: () => Promise<void>;
    let cache: TagCache;
    let probe: TagProbe;
    const logged: string[] = [];
    const failures: unknown[] = [];
    const memos = () => dataSource.getRepository(Memo);

    before(async () => {
      ({ dataSource, drop } = await db.open({ entities: [Memo] }));
      cache = new TagCache();
      installCacheTags(dataSource, { cache, logger: { warn: () => undefined, error: (message) => logged.push(message) } });
      cache.on('invalidate', ({ source }) => failures.push(...((source as TypeOrmWriteSource | undefined)?.tagFunctionFailures ?? [])));
      probe = await TagProbe.of(cache);
    });
    after(async () => {
      await drop();
      await cache.close();
    });
    beforeEach(() => {
      logged.length = 0;
      failures.length = 0;
    });

    const reported = () => {
      assert.ok(logged.some((m) => m.includes('Memo')), `an error names the entity: ${JSON.stringify(logged)}`);
      assert.ok(failures.length > 0, 'the invalidate event carries the failure');
    };

    it('insert: the row is written, the type-level tag invalidated, the error reported', async () => {
      await probe.expect(() => memos().insert({ title: 'boom', owner: 1 }), { changed: ['Memo'] });
      assert.equal(await memos().countBy({ title: 'boom' }), 1);
      reported();
    });

    it('update by criteria: the rows whose tag function works keep their precise tags', async () => {
      const [a, b] = await memos().save([{ title: 'a', owner: 2 }, { title: 'b', owner: 3 }]);
      await probe.expect(() => memos().update({ id: a.id }, { title: 'boom' }), { changed: ['Memo'], unchanged: [`Owner_3_memos`] });
      reported();
      // a's old row still has a working tag function: its tags are invalidated as well.
      await probe.expect(() => memos().update({ id: b.id }, { title: 'boom' }), { changed: ['Memo', `Memo_${b.id}`, 'Owner_3_memos'] });
      assert.equal(await memos().countBy({ title: 'boom', owner: 3 }), 1);
    });

    it('query-builder update and delete', async () => {
      const m = await memos().save({ title: 'c', owner: 4 });
      await probe.expect(() => memos().createQueryBuilder().update().set({ title: 'boom' }).where('id = :id', { id: m.id }).execute(), { changed: ['Memo', `Memo_${m.id}`] });
      reported();
      await probe.expect(() => memos().createQueryBuilder().delete().where('id = :id', { id: m.id }).execute(), { changed: ['Memo'] });
      assert.equal(await memos().countBy({ id: m.id }), 0);
    });

    it('save (in its own transaction) and remove', async () => {
      const m = await probe.expect(() => memos().save({ title: 'boom', owner: 5 }), { changed: ['Memo'] });
      reported();
      await probe.expect(() => memos().remove(m), { changed: ['Memo'] });
      assert.equal(await memos().countBy({ owner: 5 }), 0);
    });
  });
}
