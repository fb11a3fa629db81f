/*
 * TypeORM benchmark: what the cache-tags subscriber adds to a `save`, to a bulk `update` of 100
 * rows and to one of 100,000 rows (past `maxRowsPerWrite`) on PostgreSQL, with Redis as the store. Two DataSources on one database, one with
 * installCacheTags and one without, measured in alternating rounds; each works on rows of its own.
 * Beside them, the plain save followed by one raw Redis `SET`: the cost of the round trip after the
 * commit that the target allows, on this machine. The saves run twice: back to back, and paced
 * as requests are, where the round trips after an idle moment are the slow ones.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { Column, DataSource, Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import { CacheTags, TagCache } from '../lib/index.js';
import { installCacheTags } from '../lib/typeorm/index.js';
import { REQUEST_PAUSE_MS, compare, type Schedule, type Stats, type Variant } from './support/measure.js';
import { scratchPostgresDatabase } from '../test/support/scratch-databases.js';
import { deleteNamespace } from './support/redis-keys.js';
import { printSection, statsTable } from './support/report.js';
import { POSTGRES, REDIS_URL, reachable, redisAddress } from '../test/support/servers.js';

@CacheTags((item: BenchItem) => [`BenchItem_${item.id}`, `Shelf_${item.shelf}`])
@Entity()
class BenchItem {
  @PrimaryGeneratedColumn() id!: number;
  /** Which half of the table, so that the two DataSources never touch each other's rows. */
  @Column({ type: 'varchar' }) owner!: string;
  @Column({ type: 'int' }) shelf!: number;
  @Column({ type: 'varchar' }) name!: string;
  @Column({ type: 'int', default: 0 }) stock!: number;
}

/** Rows per shelf: what one bulk `update` changes. */
const SHELF_SIZE = 100;
const SHELVES = 5;
/** Rows of the large bulk update, past the default `maxRowsPerWrite` (1000): the type-level tag stands in. */
const BULK_ROWS = 100_000;
/** The large update is slow on both sides: a few measured runs tell the ratio. */
const BULK_SCHEDULE: Schedule = { warmupOps: 1, rounds: 3, opsPerRound: 1 };

/** The target for a single-entity save with the Redis store, as a ratio to a plain save. */
const TARGET_SAVE_RATIO = 1.15;

/** The target line of one save comparison: cache-tags against the plain save, and against the floor. */
function reportSaveTarget([plain, floor, local, tagged]: Stats[], pace: string): void {
  const mean = tagged.meanUs / plain.meanUs;
  const median = tagged.p50Us / plain.p50Us;
  const verdict = mean <= TARGET_SAVE_RATIO && median <= TARGET_SAVE_RATIO ? 'met' : 'NOT met';
  const overFloor = `${(tagged.meanUs / floor.meanUs).toFixed(2)}x mean, ${(tagged.p50Us / floor.p50Us).toFixed(2)}x p50 the floor`;
  const cpu = (s: Stats): string => `+${((s.cpuUs ?? NaN) - (plain.cpuUs ?? NaN)).toFixed(0)} µs`;
  console.log(
    `\nTarget: a save with the Redis store, ${pace}, at most ${TARGET_SAVE_RATIO}x a plain save. Mean ${mean.toFixed(2)}x, p50 ${median.toFixed(2)}x: ${verdict} (${overFloor}). ` +
      `CPU of this process per save over a plain one: ${cpu(tagged)} with cache-tags (${cpu(local)} its hooks alone, ${cpu(floor)} the floor's one raw round trip).`,
  );
}

async function seed(repo: Repository<BenchItem>, owner: string): Promise<BenchItem> {
  const rows = [];
  for (let shelf = 0; shelf < SHELVES; shelf++) {
    for (let i = 0; i < SHELF_SIZE; i++) rows.push(repo.create({ owner, shelf, name: `item ${shelf}.${i}`, stock: 0 }));
  }
  await repo.save(rows, { chunk: 500 });
  return repo.findOneByOrFail({ owner, shelf: 0 });
}

/** The `save` and bulk `update` of one DataSource, on its own rows. */
async function writeVariants(dataSource: DataSource, label: string): Promise<{ save: Variant; update: Variant; bulk: Variant }> {
  const repo = dataSource.getRepository(BenchItem);
  const item = await seed(repo, label);
  const bulkOwner = `${label} bulk`;
  // One INSERT … SELECT: seeding 100,000 rows through the ORM would take longer than the benchmark.
  await dataSource.query(`INSERT INTO bench_item (owner, shelf, name, stock) SELECT $1, -1, 'bulk', 0 FROM generate_series(1, ${BULK_ROWS})`, [bulkOwner]);
  let turn = 0;
  return {
    bulk: {
      name: `update of ${BULK_ROWS} rows, ${label}`,
      run: () => repo.update({ owner: bulkOwner }, { stock: () => 'stock + 1' }),
    },
    save: {
      name: `save, ${label}`,
      run: () => {
        item.stock++;
        return repo.save(item);
      },
    },
    update: {
      name: `update of ${SHELF_SIZE} rows, ${label}`,
      run: () => repo.update({ owner: label, shelf: turn++ % SHELVES }, { stock: () => 'stock + 1' }),
    },
  };
}

async function run(cache: TagCache, namespace: string, schedule: Schedule): Promise<void> {
  const db = await scratchPostgresDatabase('ct_bench');
  const options = { type: 'postgres', host: POSTGRES.host, port: POSTGRES.port, username: POSTGRES.username, database: db.database } as const;
  const plain = new DataSource({ ...options, entities: [BenchItem], synchronize: true });
  const tagged = new DataSource({ ...options, entities: [BenchItem] });
  // The same hooks with no round trip: what of a save's cost is CPU here and what is the wait for Redis.
  const local = new DataSource({ ...options, entities: [BenchItem] });
  const localCache = new TagCache();
  const redis = createClient({ url: REDIS_URL });
  const floorKey = `${namespace}:floor`;
  try {
    await redis.connect();
    await plain.initialize();
    await tagged.initialize();
    await local.initialize();
    installCacheTags(tagged, { cache });
    installCacheTags(local, { cache: localCache });
    const without = await writeVariants(plain, 'without cache-tags');
    const withTags = await writeVariants(tagged, 'with cache-tags');
    const inProcess = await writeVariants(local, 'with cache-tags, in-process store (no round trip)');
    let invalidations = 0;
    cache.on('invalidate', () => invalidations++);

    // The floor the target allows: a plain save, then one raw round trip to the same Redis.
    const floor: Variant = {
      name: 'save without cache-tags, then one raw Redis SET (the floor: one round trip after the commit)',
      run: () => without.save.run().then(() => redis.set(floorKey, '1')),
    };
    // Three times the rounds: a save's ratio is the figure tracked against a target, and a save is short.
    const saveSchedule: Schedule = { ...schedule, rounds: schedule.rounds * 3, cpu: true };
    const saveVariants = [without.save, floor, inProcess.save, withTags.save];
    const saves = await compare(saveVariants, saveSchedule);
    printSection('TypeORM + PostgreSQL, Redis store: save of one entity, back to back', statsTable(saves, saves[0]));
    const pacedSchedule: Schedule = { ...saveSchedule, pauseMs: REQUEST_PAUSE_MS };
    const paced = await compare(saveVariants, pacedSchedule);
    printSection(`TypeORM + PostgreSQL, Redis store: save of one entity, ${REQUEST_PAUSE_MS} ms apart (the pace of requests)`, statsTable(paced, paced[0]));
    reportSaveTarget(saves, 'back to back');
    reportSaveTarget(paced, `${REQUEST_PAUSE_MS} ms apart`);
    const updates = await compare([without.update, withTags.update], schedule);
    printSection(`TypeORM + PostgreSQL, Redis store: repository.update of ${SHELF_SIZE} rows`, statsTable(updates, updates[0]));
    const bulkTags: number[] = [];
    const offBulk = cache.on('invalidate', ({ tags }) => bulkTags.push(tags.length));
    const bulk = await compare([without.bulk, withTags.bulk], BULK_SCHEDULE);
    offBulk();
    printSection(
      `TypeORM + PostgreSQL, Redis store: repository.update of ${BULK_ROWS} rows (past maxRowsPerWrite: ${Math.max(...bulkTags)} tags per invalidation)`,
      statsTable(bulk, bulk[0]),
    );
    // Each measured write of the tagged DataSource must have invalidated, or the comparison is void.
    const measured = (s: Schedule): number => s.warmupOps + s.rounds * s.opsPerRound;
    const expected = 2 * measured(saveSchedule) + measured(schedule) + BULK_SCHEDULE.warmupOps + BULK_SCHEDULE.rounds * BULK_SCHEDULE.opsPerRound;
    if (invalidations < expected) throw new Error(`benchmark invalid: ${invalidations} invalidations for ${expected} tagged writes`);
  } finally {
    if (redis.isOpen) {
      await redis.del(floorKey);
      await redis.close();
    }
    await localCache.close();
    if (local.isInitialized) await local.destroy();
    if (tagged.isInitialized) await tagged.destroy();
    if (plain.isInitialized) await plain.destroy();
    await db.drop();
  }
}

/** The TypeORM benchmark, or one line saying why it cannot run. */
export async function benchTypeorm(schedule: Schedule): Promise<void> {
  const redis = redisAddress(REDIS_URL);
  for (const [label, host, port] of [['PostgreSQL', POSTGRES.host, POSTGRES.port], ['Redis', redis.host, redis.port]] as const) {
    if (!(await reachable(host, port))) {
      console.log(`\n${label} is not reachable at ${host}:${port}: skipping the TypeORM benchmark.`);
      return;
    }
  }
  const namespace = `bench-${randomUUID()}`;
  const cache = new TagCache({ store: REDIS_URL, namespace });
  try {
    await run(cache, namespace, schedule);
  } finally {
    await cache.close();
    await deleteNamespace(REDIS_URL, namespace);
  }
}
