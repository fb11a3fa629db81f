import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach } from 'node:test';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { TagCache, setDefaultTagCache } from '../../../lib/index.js';
import type { CacheTagsSubscriberOptions } from '../../../lib/mikro-orm/index.js';
import type { StoreCase } from '../../support/stores.js';
import { openOrm, type DatabaseCase } from './orm.js';
import { queryEntities, seedPosts } from './query-model.js';

/** A read under test: it runs on the entity manager given and returns plain data to compare. */
export type QueryRead = (em: SqlEntityManager) => Promise<unknown>;

/** What a query cache test works with; filled in by the suite's hooks. */
export interface QuerySuite {
  orm: MikroORM;
  cache: TagCache;
  /** SQL statements the ORM has run so far (MikroORM's `onQuery` sees every one). */
  statements: string[];
  /** A fresh entity manager, as a request would have. */
  fork(): SqlEntityManager;
  /** Runs `read` on a fresh entity manager: its result, and how many SQL statements it ran. */
  run(read: QueryRead): Promise<{ result: unknown; statements: number }>;
  /**
   * Caches `read` (first call), checks that the second call is a hit, runs `write`, then checks
   * that the next call is a miss (`expect: 'miss'`) or still a hit, and in both cases that it
   * returns what the database holds now (`read` inside a transaction, which the cache never serves).
   */
  check(read: QueryRead, write: (em: SqlEntityManager) => Promise<unknown>, expect: 'hit' | 'miss'): Promise<void>;
}

/**
 * Registers the hooks of a query cache suite on one database and store (inside `describe`): one
 * ORM with the query model; per test, a fresh cache made the default and the seed data.
 */
export function querySuite(db: DatabaseCase, store: StoreCase, subscriber: CacheTagsSubscriberOptions = {}): QuerySuite {
  const statements: string[] = [];
  let close: (() => Promise<void>) | undefined;
  const suite: QuerySuite = {
    orm: undefined as never,
    cache: undefined as never,
    statements,
    fork: () => suite.orm.em.fork() as SqlEntityManager,
    async run(read) {
      const before = statements.length;
      const result = await read(suite.fork());
      return { result, statements: statements.length - before };
    },
    async check(read, write, expect) {
      await suite.run(read);
      assert.equal((await suite.run(read)).statements, 0, 'the second call is served from the cache');
      await write(suite.fork());
      const next = await suite.run(read);
      // Inside a transaction the query cache is bypassed: the database's answer.
      const fresh = await suite.fork().transactional((em) => read(em));
      assert.deepEqual(next.result, fresh, 'the read after the write returns what the database holds');
      if (expect === 'miss') assert.ok(next.statements > 0, 'the write invalidated the cached query: the next call ran SQL');
      else assert.equal(next.statements, 0, 'the write left the cached query alone: the next call is still a hit');
    },
  };
  before(async () => {
    ({ orm: suite.orm, close } = await openOrm(db, subscriber, {
      entities: queryEntities,
      onQuery: (sql: string) => {
        statements.push(sql);
        return sql;
      },
    }));
  });
  beforeEach(async () => {
    suite.cache = store.make();
    setDefaultTagCache(suite.cache);
    await seedPosts(suite.orm);
  });
  afterEach(async () => {
    setDefaultTagCache(new TagCache());
    await suite.cache.close();
  });
  after(() => close?.());
  return suite;
}
