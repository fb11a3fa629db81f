// The TypeORM example (`npm run demo`): SQLite in memory, the in-process cache, no server.
// It prints every hit and miss, and which write invalidated which tags.
import { DataSource } from 'typeorm';
import { Cached, TagCache, setDefaultTagCache } from '../../lib/index.js';
import { installCacheTags, type TypeOrmWriteSource } from '../../lib/typeorm/index.js';
import { Comment, Photo, Tag, User } from './entities.js';

class PhotoService {
  constructor(private readonly dataSource: DataSource) {}

  @Cached({ tags: (id: number) => [`Photo_${id}`] })
  async photo(id: number) {
    const photo = await this.dataSource.getRepository(Photo).findOneOrFail({ where: { id }, relations: { user: true, tags: true } });
    return `${photo.title} by ${photo.user.name} [${photo.tags.map((t) => t.name).join(', ')}]`;
  }

  @Cached({ tags: (userId: number) => [`User_${userId}_photos`] })
  async photosOf(userId: number) {
    return (await this.dataSource.getRepository(Photo).findBy({ user: { id: userId } })).map((p) => p.title);
  }

  // A count depends on every row: the type-level tag `Photo` is bumped by any Photo write.
  @Cached(['Photo'])
  countPhotos() {
    return this.dataSource.getRepository(Photo).count();
  }
}

function describeWrite(source: TypeOrmWriteSource | undefined): string {
  if (!source) return 'a direct call';
  if (source.writes) return `${source.operation} of a transaction with ${source.writes.map((w) => `${w.operation} ${w.entity}`).join(', ')}`;
  return `${source.operation} ${source.entity}`;
}

export async function runTypeOrmExample(log: (line: string) => void = console.log): Promise<void> {
  const cache = new TagCache();
  setDefaultTagCache(cache);
  cache.on('hit', ({ key }) => log(`    hit   ${key}`));
  cache.on('miss', ({ key, reason }) => log(`    miss  ${key} (${reason})`));
  // Entities loaded inside a @Cached method add their tags to it (tracked loads). A value that may
  // have read a row older than a write is returned but not stored: the demo shows it if it happens.
  cache.on('stale', ({ key, reason }) => log(`    not stored ${key} (${reason})`));
  cache.on('invalidate', ({ tags, source }) => log(`    ${describeWrite(source as TypeOrmWriteSource)} invalidated ${tags.join(', ')}`));

  const dataSource = new DataSource({ type: 'better-sqlite3', database: ':memory:', entities: [User, Tag, Photo, Comment], synchronize: true });
  await dataSource.initialize();
  installCacheTags(dataSource, { cache }); // the one line

  log('seed:');
  const [ann, bob] = await dataSource.getRepository(User).save([{ name: 'Ann' }, { name: 'Bob' }]);
  const [sea, sky] = await dataSource.getRepository(Tag).save([{ name: 'sea' }, { name: 'sky' }]);
  const beach = await dataSource.getRepository(Photo).save({ title: 'Beach', user: ann, tags: [sea] });
  await dataSource.getRepository(Photo).save({ title: 'Hill', user: bob });

  const service = new PhotoService(dataSource);
  const read = async (label: string) => {
    log(`${label}:`);
    log(`    -> photo: ${await service.photo(beach.id)}`);
    log(`    -> Ann's photos: ${(await service.photosOf(ann.id)).join(', ')}; Bob's: ${(await service.photosOf(bob.id)).join(', ')}`);
    log(`    -> count: ${await service.countPhotos()}`);
  };

  await read('read (misses)');
  await read('read again (hits)');

  log('move the beach photo to Bob with update(criteria):');
  await dataSource.getRepository(Photo).update({ id: beach.id }, { user: { id: bob.id } });
  await read('read after the update (what it invalidated misses)');
  await read('read again (hits)');

  log('tag it through the relation query builder, in a transaction:');
  await dataSource.transaction(async (manager) => {
    await manager.createQueryBuilder().relation(Photo, 'tags').of(beach).add(sky);
    await manager.getRepository(Photo).save({ id: beach.id, title: 'Beach at noon' });
  });
  await read('read after the commit (what it invalidated misses)');
  await read('read again (hits)');

  log('raw SQL (only the type-level tag can be known):');
  await dataSource.query(`DELETE FROM photo WHERE title = 'Hill'`);
  log(`    -> count: ${await service.countPhotos()}`);
  log(`    -> count: ${await service.countPhotos()}`);

  await dataSource.destroy();
  await cache.close();
}

if (require.main === module) void runTypeOrmExample();
