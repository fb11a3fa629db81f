/*
 * MikroORM query cache benchmark (docs/query-cache.md), on PostgreSQL with Redis as the store:
 * 1. the hit rate of per-user photo lists under the TypeORM benchmark's mixed workload (90 % reads
 *    of a random user's photos, 10 % inserts of a random user's new photo), `cache: true` (field
 *    tags) against, in the same run over the same operations, the type-level tag alone;
 * 2. what a hit costs: `em.find(..., { cache: true })` served from Redis and revived into a fresh
 *    entity manager, against the same find from PostgreSQL, in alternating rounds.
 */
import { randomUUID } from 'node:crypto';
import { Entity, ManyToOne, MikroORM, PrimaryKey, Property } from '@mikro-orm/core';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { TagCache } from '../lib/index.js';
import { CacheTags, defineCacheTagsConfig } from '../lib/mikro-orm/index.js';
import { scratchPostgresDatabase } from '../test/support/scratch-databases.js';
import { POSTGRES, REDIS_URL, reachable, redisAddress } from '../test/support/servers.js';
import { compare, type Schedule } from './support/measure.js';
import { deleteNamespace } from './support/redis-keys.js';
import { markdownTable, printSection, statsTable } from './support/report.js';

@CacheTags({ name: 'McUser' })
@Entity({ tableName: 'mc_user' })
class McUser {
  @PrimaryKey({ type: 'number' }) id!: number;
  @Property({ type: 'string' }) name!: string;
}

@CacheTags({ name: 'McPhoto' })
@Entity({ tableName: 'mc_photo' })
class McPhoto {
  @PrimaryKey({ type: 'number' }) id!: number;
  @Property({ type: 'string' }) title!: string;
  @ManyToOne(() => McUser) user!: McUser;
}

const USERS = 100;
const PHOTOS_PER_USER = 5;

/** The TypeORM benchmark's generator: both see one sequence of operations. */
function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

async function hitRates(orm: MikroORM, cache: TagCache, operations: number): Promise<void> {
  const seeding = orm.em.fork();
  for (let u = 1; u <= USERS; u++) {
    const user = seeding.create(McUser, { id: u, name: `u${u}` });
    for (let i = 0; i < PHOTOS_PER_USER; i++) seeding.create(McPhoto, { id: u * 100 + i, title: `p${i}`, user });
  }
  await seeding.flush();
  const counts = { precise: { reads: 0, hits: 0 }, typeOnly: { reads: 0, hits: 0 } };
  const off = cache.on('hit', ({ key }) => {
    if (key.startsWith('query:')) counts.precise.hits++;
    else if (key.startsWith('type-only:')) counts.typeOnly.hits++;
  });
  const next = random(42);
  let writes = 0;
  for (let i = 0; i < operations; i++) {
    const user = 1 + Math.floor(next() * USERS);
    if (next() < 0.1) {
      const em = orm.em.fork();
      em.create(McPhoto, { id: 100_000 + i, title: `new ${i}`, user });
      await em.flush();
      writes++;
      continue;
    }
    await orm.em.fork().find(McPhoto, { user }, { cache: true });
    counts.precise.reads++;
    const titles = async () => (await orm.em.fork().find(McPhoto, { user })).map((p) => p.title);
    await cache.wrap(`type-only:${user}`, titles, { tags: ['McPhoto'] });
    counts.typeOnly.reads++;
  }
  off();
  const rate = (c: { reads: number; hits: number }) => `${((100 * c.hits) / c.reads).toFixed(1)} %`;
  printSection(
    `MikroORM query cache hit rate: ${operations} operations, 90 % reads of one of ${USERS} users' photos, 10 % inserts of a photo (${writes} inserts)`,
    markdownTable(['cached under', 'reads', 'hits', 'hit rate'], [
      ['field tags (`cache: true`)', String(counts.precise.reads), String(counts.precise.hits), rate(counts.precise)],
      ['the type-level tag alone', String(counts.typeOnly.reads), String(counts.typeOnly.hits), rate(counts.typeOnly)],
    ]),
  );
}

async function hitCost(orm: MikroORM, schedule: Schedule): Promise<void> {
  const read = (cache: boolean) => () => orm.em.fork().find(McPhoto, { user: 7 }, { orderBy: { id: 'asc' }, cache });
  await read(true)();
  const stats = await compare([
    { name: 'em.find of 5 photos from PostgreSQL', run: read(false) },
    { name: 'the same find, `cache: true`, a hit (Redis, revived into a fresh entity manager)', run: read(true) },
  ], schedule);
  printSection('MikroORM query cache: a hit against the find it saves (PostgreSQL, Redis store)', statsTable(stats, stats[0]));
}

/** The MikroORM query cache benchmark, or one line saying why it cannot run. */
export async function benchMikroQueryCache(schedule: Schedule, operations: number): Promise<void> {
  const redis = redisAddress(REDIS_URL);
  for (const [label, host, port] of [['PostgreSQL', POSTGRES.host, POSTGRES.port], ['Redis', redis.host, redis.port]] as const) {
    if (!(await reachable(host, port))) {
      console.log(`\n${label} is not reachable at ${host}:${port}: skipping the MikroORM query cache benchmark.`);
      return;
    }
  }
  const namespace = `bench-${randomUUID()}`;
  const cache = new TagCache({ store: REDIS_URL, namespace });
  const db = await scratchPostgresDatabase('ct_bench_mqc');
  const config = { driver: PostgreSqlDriver, dbName: db.database, host: POSTGRES.host, port: POSTGRES.port, user: POSTGRES.username, entities: [McUser, McPhoto], debug: false };
  let orm: MikroORM | undefined;
  try {
    orm = await MikroORM.init(defineCacheTagsConfig(config, { cache }));
    await orm.schema.createSchema();
    await hitRates(orm, cache, operations);
    await hitCost(orm, schedule);
  } finally {
    await orm?.close(true);
    await db.drop();
    await cache.close();
    await deleteNamespace(REDIS_URL, namespace);
  }
}
