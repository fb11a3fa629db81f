import { after, before } from 'node:test';
import type { DataSource } from 'typeorm';
import type { TagCache } from '../../../lib/index.js';
import { installCacheTags } from '../../../lib/typeorm/index.js';
import type { DatabaseCase } from './databases.js';
import { TagProbe } from './probe.js';

export interface Harness {
  dataSource: DataSource;
  cache: TagCache;
  probe: TagProbe;
}

/**
 * Opens `db` with cache-tags installed on a cache from `makeCache` for the enclosing suite, and
 * drops it after. Call inside describe(); read the fields inside tests.
 */
export function useDatabase(db: DatabaseCase, makeCache: () => TagCache): Harness {
  const harness = {} as Harness;
  let drop: (() => Promise<void>) | undefined;
  before(async () => {
    const opened = await db.open();
    drop = opened.drop;
    harness.dataSource = opened.dataSource;
    harness.cache = makeCache();
    installCacheTags(opened.dataSource, { cache: harness.cache });
    harness.probe = await TagProbe.of(harness.cache);
  });
  after(async () => {
    await drop?.();
    await harness.cache?.close();
  });
  return harness;
}
