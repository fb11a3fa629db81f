/*
 * Tracked loads benchmark: what tracking (on by default, `trackLoads`) costs a load that runs
 * outside any cached computation, in both ORMs on in-memory SQLite: the same `find` of 100 rows
 * (with a to-many collection each) through an ORM without cache-tags, with cache-tags and
 * `trackLoads: false`, and with the default `trackLoads: true`, measured in alternating rounds.
 */
import { Collection, Entity as MikroEntity, MikroORM, OneToMany as MikroOneToMany, ManyToOne as MikroManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { Column, DataSource, Entity, ManyToOne, OneToMany, PrimaryColumn } from 'typeorm';
import { CacheTags, TagCache } from '../lib/index.js';
import { defineCacheTagsConfig } from '../lib/mikro-orm/index.js';
import { installCacheTags } from '../lib/typeorm/index.js';
import { compare, type Schedule, type Variant } from './support/measure.js';
import { printSection, statsTable } from './support/report.js';

const ROWS = 100;

@CacheTags((shelf: TrackShelf) => [`TrackShelf_${shelf.id}`])
@Entity()
class TrackShelf {
  @PrimaryColumn({ type: 'int' }) id!: number;
  @Column({ type: 'varchar' }) name!: string;
  @OneToMany(() => TrackBook, (book) => book.shelf) books?: TrackBook[];
}

@CacheTags((book: TrackBook) => [`TrackBook_${book.id}`])
@Entity()
class TrackBook {
  @PrimaryColumn({ type: 'int' }) id!: number;
  @Column({ type: 'int' }) shelfId!: number;
  @ManyToOne(() => TrackShelf, (shelf) => shelf.books) shelf?: TrackShelf;
}

@CacheTags((shelf: MikroShelf) => [`MikroShelf_${shelf.id}`])
@MikroEntity()
class MikroShelf {
  @PrimaryKey({ type: 'number', autoincrement: false }) id!: number;
  @Property({ type: 'string' }) name!: string;
  @MikroOneToMany(() => MikroBook, (book) => book.shelf) books = new Collection<MikroBook>(this);
}

@CacheTags((book: MikroBook) => [`MikroBook_${book.id}`])
@MikroEntity()
class MikroBook {
  @PrimaryKey({ type: 'number', autoincrement: false }) id!: number;
  @MikroManyToOne(() => MikroShelf) shelf!: MikroShelf;
}

type Setup = 'without cache-tags' | 'trackLoads: false' | 'trackLoads: true (default)';
const SETUPS: Setup[] = ['without cache-tags', 'trackLoads: false', 'trackLoads: true (default)'];

async function typeormVariant(setup: Setup, cache: TagCache): Promise<{ variant: Variant; close: () => Promise<void> }> {
  const dataSource = new DataSource({ type: 'better-sqlite3', database: ':memory:', entities: [TrackShelf, TrackBook], synchronize: true });
  await dataSource.initialize();
  if (setup !== 'without cache-tags') installCacheTags(dataSource, { cache, trackLoads: setup !== 'trackLoads: false' });
  const shelves = Array.from({ length: ROWS }, (_, i) => ({ id: i + 1, name: `shelf ${i}` }));
  await dataSource.getRepository(TrackShelf).insert(shelves);
  await dataSource.getRepository(TrackBook).insert(shelves.map((s) => ({ id: s.id, shelfId: s.id })));
  const repo = dataSource.getRepository(TrackShelf);
  return { variant: { name: `TypeORM find, ${setup}`, run: () => repo.find({ relations: { books: true } }) }, close: () => dataSource.destroy() };
}

async function mikroVariant(setup: Setup, cache: TagCache): Promise<{ variant: Variant; close: () => Promise<void> }> {
  const config = { driver: BetterSqliteDriver, dbName: ':memory:', entities: [MikroShelf, MikroBook], debug: false };
  const orm = await MikroORM.init(setup === 'without cache-tags' ? config : defineCacheTagsConfig(config, { cache, trackLoads: setup !== 'trackLoads: false' }));
  await orm.schema.createSchema();
  const em = orm.em.fork();
  await em.insertMany(MikroShelf, Array.from({ length: ROWS }, (_, i) => ({ id: i + 1, name: `shelf ${i}` })));
  await em.insertMany(MikroBook, Array.from({ length: ROWS }, (_, i) => ({ id: i + 1, shelf: i + 1 })));
  return { variant: { name: `MikroORM find, ${setup}`, run: () => orm.em.fork().find(MikroShelf, {}, { populate: ['books'] }) }, close: () => orm.close(true) };
}

/** The tracked-loads benchmark (needs no server). */
export async function benchTracking(schedule: Schedule): Promise<void> {
  const cache = new TagCache();
  try {
    for (const [orm, make] of [['TypeORM', typeormVariant], ['MikroORM', mikroVariant]] as const) {
      const opened = await Promise.all(SETUPS.map((setup) => make(setup, cache)));
      try {
        const stats = await compare(opened.map((o) => o.variant), schedule);
        printSection(`${orm} + SQLite: find of ${ROWS} rows with a to-many collection each, outside any cached computation`, statsTable(stats, stats[0]));
      } finally {
        for (const o of opened) await o.close();
      }
    }
  } finally {
    await cache.close();
  }
}
