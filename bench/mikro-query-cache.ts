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
import { PHOTOS_PER_USER, USERS, printHitRates } from './support/hit-rates.js';
import { deleteNamespace } from './support/redis-keys.js';
import { printSection, statsTable } from './support/report.js';

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

async function hitRates(orm: MikroORM, cache: TagCache, operations: number): Promise<void> {
  const seeding = orm.em.fork();
  const users = Array.from({ length: USERS }, (_, u) => u + 1);
  for (const u of users) {
    const user = seeding.create(McUser, { id: u, name: `u${u}` });
    for (let i = 0; i < PHOTOS_PER_USER; i++) seeding.create(McPhoto, { id: u * 100 + i, title: `p${i}`, user });
  }
  await seeding.flush();
  await printHitRates('MikroORM query cache hit rate', cache, operations, {
    users,
    read: (user) => orm.em.fork().find(McPhoto, { user }, { cache: true }),
    // Entities hold collections and the entity manager: the type-level variant caches plain data.
    plainRead: async (user) => (await orm.em.fork().find(McPhoto, { user })).map((p) => p.title),
    typeTag: 'McPhoto',
    keyOf: String,
    write: async (user, i) => {
      const em = orm.em.fork();
      em.create(McPhoto, { id: 100_000 + i, title: `new ${i}`, user });
      await em.flush();
    },
    writes: 'inserts',
  });
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
