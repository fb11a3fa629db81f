// `npm run demo`: caching with tags in one process, no server needed.
import { Cached, TagCache, setDefaultTagCache } from '../lib/index.js';

const cache = new TagCache();
setDefaultTagCache(cache);
cache.on('hit', ({ key }) => console.log(`  hit   ${key}`));
cache.on('miss', ({ key, reason }) => console.log(`  miss  ${key} (${reason})`));
cache.on('invalidate', ({ tags }) => console.log(`  invalidated ${tags.join(', ')}`));

const photos = new Map([[1, { id: 1, title: 'Sunset', takenAt: new Date('2024-06-01') }]]);

class PhotoService {
  @Cached({ tags: (id: number) => [`Photo_${id}`] })
  async getPhoto(id: number) {
    console.log(`  source: reading photo ${id}`);
    return Promise.resolve(photos.get(id));
  }
}

async function main(): Promise<void> {
  const service = new PhotoService();
  console.log('read photo 1:');
  console.log('  ->', await service.getPhoto(1));
  console.log('read photo 1 again:');
  console.log('  ->', await service.getPhoto(1));
  console.log('rename photo 1, invalidate its tag:');
  photos.set(1, { ...photos.get(1)!, title: 'Sunrise' });
  await cache.invalidateTags(['Photo_1']);
  console.log('read photo 1 again:');
  console.log('  ->', await service.getPhoto(1));
  await cache.close();
}

void main();
