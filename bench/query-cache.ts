/*
 * Query cache benchmark (docs/query-cache.md), TypeORM on PostgreSQL with Redis as the store:
 * 1. the hit rate of per-user photo lists under a mixed workload (90 % reads of a random user's
 *    photos, 10 % saves of a random user's new photo), cached with the query cache's field tags
 *    and, in the same run over the same operations, cached under the type-level tag alone (what
 *    every query would get if the matcher understood nothing);
 * 2. what a single save costs with cache-tags over the same save without, for an entity whose
 *    only condition field is its primary key and for one with four (key, join column, index,
 *    declared field; the save changes one, so five field tags), in alternating rounds.
 */
import { randomUUID } from 'node:crypto';
import { Column, DataSource, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import { CacheTags, TagCache } from '../lib/index.js';
import { installCacheTags } from '../lib/typeorm/index.js';
import { scratchPostgresDatabase } from '../test/support/scratch-databases.js';
import { POSTGRES, REDIS_URL, reachable, redisAddress } from '../test/support/servers.js';
import { compare, type Schedule } from './support/measure.js';
import { deleteNamespace } from './support/redis-keys.js';
import { markdownTable, printSection, statsTable } from './support/report.js';

@CacheTags({ name: 'QcUser' })
@Entity()
class QcUser {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) name!: string;
}

@CacheTags({ name: 'QcPhoto', conditionFields: ['status'] })
@Entity()
class QcPhoto {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @Index() @Column({ type: 'varchar' }) album!: string;
  @Column({ type: 'int', default: 1 }) status!: number;
  @Column({ type: 'int' }) userId!: number;
  @ManyToOne(() => QcUser) @JoinColumn({ name: 'userId' }) user?: QcUser;
}

/** The same columns as QcPhoto, none of them a condition field but the primary key. */
@CacheTags({ name: 'QcPlain' })
@Entity()
class QcPlain {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @Column({ type: 'varchar' }) album!: string;
  @Column({ type: 'int', default: 1 }) status!: number;
  @Column({ type: 'int' }) userId!: number;
}

const USERS = 100;
const PHOTOS_PER_USER = 5;

/** A small deterministic generator, so that both variants and every rerun see one sequence. */
function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

async function hitRates(dataSource: DataSource, cache: TagCache, operations: number): Promise<void> {
  const users = await dataSource.getRepository(QcUser).save(Array.from({ length: USERS }, (_, i) => ({ name: `u${i}` })));
  const photos = dataSource.getRepository(QcPhoto);
  await photos.save(users.flatMap((u) => Array.from({ length: PHOTOS_PER_USER }, (_, i) => ({ title: `p${i}`, album: 'a', userId: u.id }))));
  const counts = { precise: { reads: 0, hits: 0 }, typeOnly: { reads: 0, hits: 0 } };
  const off = cache.on('hit', ({ key }) => {
    if (key.startsWith('query:')) counts.precise.hits++;
    else if (key.startsWith('type-only:')) counts.typeOnly.hits++;
  });
  const next = random(42);
  let writes = 0;
  for (let i = 0; i < operations; i++) {
    const user = users[Math.floor(next() * users.length)];
    if (next() < 0.1) {
      await photos.save({ title: `new ${i}`, album: 'a', userId: user.id });
      writes++;
      continue;
    }
    await photos.find({ where: { userId: user.id }, cache: true });
    counts.precise.reads++;
    await cache.wrap(`type-only:${user.id}`, () => photos.find({ where: { userId: user.id } }), { tags: ['QcPhoto'] });
    counts.typeOnly.reads++;
  }
  off();
  const rate = (c: { reads: number; hits: number }) => `${((100 * c.hits) / c.reads).toFixed(1)} %`;
  printSection(
    `Query cache hit rate: ${operations} operations, 90 % reads of one of ${USERS} users' photos, 10 % saves of a photo (${writes} saves)`,
    markdownTable(['cached under', 'reads', 'hits', 'hit rate'], [
      ['field tags (`cache: true`)', String(counts.precise.reads), String(counts.precise.hits), rate(counts.precise)],
      ['the type-level tag alone', String(counts.typeOnly.reads), String(counts.typeOnly.hits), rate(counts.typeOnly)],
    ]),
  );
}

async function saveCost(plain: DataSource, tagged: DataSource, cache: TagCache, schedule: Schedule): Promise<void> {
  await tagged.getRepository(QcUser).save({ name: 'owner' });
  const variants: [string, Repository<QcPhoto | QcPlain>][] = [
    ['save, 1 condition field (primary key), without cache-tags', plain.getRepository(QcPlain)],
    ['save, 1 condition field (primary key), cache-tags', tagged.getRepository(QcPlain)],
    ['save, 4 condition fields, one of them changed, without cache-tags', plain.getRepository(QcPhoto)],
    ['save, 4 condition fields, one of them changed, cache-tags', tagged.getRepository(QcPhoto)],
  ];
  const built = await Promise.all(variants.map(async ([name, repo]) => {
    const row = await repo.save(repo.create({ title: 't', album: 'a', status: 1, userId: 1 }));
    const run = () => {
      row.status = row.status === 1 ? 2 : 1;
      return repo.save(row);
    };
    return { name, run };
  }));
  const stats = await compare(built, schedule);
  const title = 'Query cache: what field tags add to a single save (TypeORM + PostgreSQL, Redis store)';
  printSection(title, `${statsTable(stats.slice(0, 2), stats[0])}\n\n${statsTable(stats.slice(2), stats[2])}`);
  // The part of a save the field tags change: its one invalidation, with the tags of each entity's save.
  const saveTags = (entity: string, fields: string[]) => [entity, ...fields.map((f) => `${entity}.${f}`)];
  const invalidations = await compare([
    { name: 'invalidation of a save, primary key only (2 tags)', run: () => cache.invalidateTags(saveTags('QcPlain', ['id=1'])) },
    { name: 'invalidation of a save, 4 condition fields, one changed (6 tags)', run: () => cache.invalidateTags(saveTags('QcPhoto', ['id=1', 'userId=1', 'album=a', 'status=1', 'status=2'])) },
  ], schedule);
  printSection('Query cache: the invalidation round trip of one save, Redis store', statsTable(invalidations, invalidations[0]));
}

/** The query cache benchmark, or one line saying why it cannot run. */
export async function benchQueryCache(schedule: Schedule, operations: number): Promise<void> {
  const redis = redisAddress(REDIS_URL);
  for (const [label, host, port] of [['PostgreSQL', POSTGRES.host, POSTGRES.port], ['Redis', redis.host, redis.port]] as const) {
    if (!(await reachable(host, port))) {
      console.log(`\n${label} is not reachable at ${host}:${port}: skipping the query cache benchmark.`);
      return;
    }
  }
  const namespace = `bench-${randomUUID()}`;
  const cache = new TagCache({ store: REDIS_URL, namespace });
  const db = await scratchPostgresDatabase('ct_bench_qc');
  const options = { type: 'postgres' as const, host: POSTGRES.host, port: POSTGRES.port, username: POSTGRES.username, database: db.database, entities: [QcUser, QcPhoto, QcPlain] };
  const plain = new DataSource({ ...options, synchronize: true });
  const tagged = new DataSource(options);
  try {
    await plain.initialize();
    await tagged.initialize();
    installCacheTags(tagged, { cache });
    await hitRates(tagged, cache, operations);
    await saveCost(plain, tagged, cache, schedule);
  } finally {
    if (tagged.isInitialized) await tagged.destroy();
    if (plain.isInitialized) await plain.destroy();
    await db.drop();
    await cache.close();
    await deleteNamespace(REDIS_URL, namespace);
  }
}
