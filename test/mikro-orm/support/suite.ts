import { after, afterEach, before, beforeEach } from 'node:test';
import type { MikroORM, Options } from '@mikro-orm/core';
import { TagCache, setDefaultTagCache, type TagCacheOptions } from '../../../lib/index.js';
import type { CacheTagsSubscriberOptions } from '../../../lib/mikro-orm/index.js';
import type { StoreCase } from '../../support/stores.js';
import { openOrm, type DatabaseCase, type Wiring } from './orm.js';
import { PhotoService, PhotoSource, seed } from './service.js';

/** What a test of an ORM suite works with; filled in by the suite's hooks. */
export interface OrmSuite {
  orm: MikroORM;
  /** The default cache during the current test: a fresh namespace on the suite's store. */
  cache: TagCache;
  svc: PhotoService;
}

/** Options of {@link ormSuite}. */
export interface OrmSuiteOptions {
  subscriber?: CacheTagsSubscriberOptions;
  cache?: TagCacheOptions;
  orm?: Partial<Options>;
  /** @default 'defineCacheTagsConfig' */
  wiring?: Wiring;
}

/**
 * Registers the hooks of a suite on one database and one store (call it inside `describe`): one ORM
 * for the suite; per test, a cache of its own made the default, the seed data, and a PhotoService.
 */
export function ormSuite(db: DatabaseCase, store: StoreCase, options: OrmSuiteOptions = {}): OrmSuite {
  const suite = {} as OrmSuite;
  let close: (() => Promise<void>) | undefined;
  // These suites count hits of declared tags; tracked loads (on by default) have their own suite.
  const subscriber = { trackLoads: false, ...options.subscriber };
  before(async () => ({ orm: suite.orm, close } = await openOrm(db, subscriber, options.orm, options.wiring)));
  beforeEach(async () => {
    suite.cache = store.make(options.cache);
    setDefaultTagCache(suite.cache);
    await seed(suite.orm);
    suite.svc = new PhotoService(new PhotoSource(suite.orm));
  });
  afterEach(async () => {
    // The next suite's writes must not reach a cache that is closed.
    setDefaultTagCache(new TagCache());
    await suite.cache.close();
  });
  after(() => close?.());
  return suite;
}
