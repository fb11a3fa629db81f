/*
 * MikroORM benchmark: what the cache-tags subscriber adds to the flush of one changed entity on
 * PostgreSQL, with Redis as the store. Two MikroORM instances on one database, one configured with
 * defineCacheTagsConfig and one without, measured in alternating rounds; each writes a row of its own.
 */
import { randomUUID } from 'node:crypto';
import { Entity, MikroORM, PrimaryKey, Property, type EntityManager } from '@mikro-orm/core';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { TagCache } from '../lib/index.js';
import { CacheTags, defineCacheTagsConfig } from '../lib/mikro-orm/index.js';
import { scratchPostgresDatabase } from '../test/support/scratch-databases.js';
import { POSTGRES, REDIS_URL, reachable, redisAddress } from '../test/support/servers.js';
import { REQUEST_PAUSE_MS, compare, type Schedule, type Variant } from './support/measure.js';
import { deleteNamespace } from './support/redis-keys.js';
import { printSection, statsTable } from './support/report.js';

@CacheTags((item: MbItem) => [`MbItem_${item.id}`, `Shelf_${item.shelf}`])
@Entity({ tableName: 'mb_item' })
class MbItem {
  @PrimaryKey({ type: 'number' }) id!: number;
  @Property({ type: 'number' }) shelf!: number;
  @Property({ type: 'number' }) stock!: number;
}

/** The flush of one changed entity, kept managed by one entity manager (no SELECT in the loop). */
async function flushVariant(em: EntityManager, id: number, name: string): Promise<Variant> {
  const item = em.create(MbItem, { id, shelf: 0, stock: 0 });
  await em.flush();
  return {
    name,
    run: () => {
      item.stock++;
      return em.flush();
    },
  };
}

/** The MikroORM benchmark, or one line saying why it cannot run. */
export async function benchMikroOrm(schedule: Schedule): Promise<void> {
  const redis = redisAddress(REDIS_URL);
  for (const [label, host, port] of [['PostgreSQL', POSTGRES.host, POSTGRES.port], ['Redis', redis.host, redis.port]] as const) {
    if (!(await reachable(host, port))) {
      console.log(`\n${label} is not reachable at ${host}:${port}: skipping the MikroORM benchmark.`);
      return;
    }
  }
  const namespace = `bench-${randomUUID()}`;
  const cache = new TagCache({ store: REDIS_URL, namespace });
  const db = await scratchPostgresDatabase('ct_bench_mikro');
  const config = { driver: PostgreSqlDriver, dbName: db.database, host: POSTGRES.host, port: POSTGRES.port, user: POSTGRES.username, entities: [MbItem], debug: false };
  const orms: MikroORM[] = [];
  try {
    const plain = await MikroORM.init(config);
    orms.push(plain);
    const tagged = await MikroORM.init(defineCacheTagsConfig(config, { cache }));
    orms.push(tagged);
    await plain.schema.createSchema();
    let invalidations = 0;
    cache.on('invalidate', () => invalidations++);
    const variants = [await flushVariant(plain.em.fork(), 1, 'flush, without cache-tags'), await flushVariant(tagged.em.fork(), 2, 'flush, with cache-tags')];
    const flushes = await compare(variants, { ...schedule, cpu: true });
    printSection('MikroORM + PostgreSQL, Redis store: flush of one changed entity, back to back', statsTable(flushes, flushes[0]));
    const paced = await compare(variants, { ...schedule, pauseMs: REQUEST_PAUSE_MS, cpu: true });
    printSection(`MikroORM + PostgreSQL, Redis store: flush of one changed entity, ${REQUEST_PAUSE_MS} ms apart (the pace of requests)`, statsTable(paced, paced[0]));
    // Each measured flush of the tagged ORM must have invalidated, or the comparison is void.
    const expected = 1 + 2 * (schedule.warmupOps + schedule.rounds * schedule.opsPerRound);
    if (invalidations < expected) throw new Error(`benchmark invalid: ${invalidations} invalidations for ${expected} tagged flushes`);
  } finally {
    for (const orm of orms) await orm.close(true);
    await db.drop();
    await cache.close();
    await deleteNamespace(REDIS_URL, namespace);
  }
}
