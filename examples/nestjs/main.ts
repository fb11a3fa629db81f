/*
 * A small NestJS app on cache-tags: SQLite and an in-memory cache by default; PostgreSQL with
 * DATABASE_URL=postgres://..., Redis with REDIS_URL=redis://....
 *
 *   node scripts/compile.mjs --quick && node .build/examples/nestjs/main.js   # then:
 *   curl localhost:3000/photos/1        # computed, then served from the cache (see X-Handler-Runs)
 *   curl -X PATCH localhost:3000/photos/1 -H 'content-type: application/json' -d '{"title":"new"}'
 *   curl localhost:3000/photos/1        # the new title, at once
 */
import 'reflect-metadata';
import { Body, Controller, Get, Module, NotFoundException, Param, ParseIntPipe, Patch, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CachePage, CacheTagsModule } from '../../lib/nestjs/index.js'; // in your app: 'cache-tags/nestjs'
import { Photo, PhotoService } from './photo.js';

let handlerRuns = 0;

@Controller('photos')
class PhotosController {
  constructor(private readonly photos: PhotoService) {}

  @Get()
  @CachePage() // tags: bubbled up from PhotoService.findAll (`Photo`)
  list(): Promise<Photo[]> {
    return this.photos.findAll();
  }

  @Get(':id')
  @CachePage({ tags: ({ params }) => [`Photo_${params.id}`], ttl: 10 * 60_000 })
  async one(@Param('id', ParseIntPipe) id: number, @Res({ passthrough: true }) res: { setHeader(name: string, value: string): void }): Promise<Photo> {
    res.setHeader('X-Handler-Runs', String(++handlerRuns));
    const photo = await this.photos.findOne(id);
    if (!photo) throw new NotFoundException(`No photo ${id}`);
    return photo;
  }

  @Patch(':id')
  rename(@Param('id', ParseIntPipe) id: number, @Body() body: { title: string }): Promise<Photo | null> {
    return this.photos.rename(id, body.title);
  }
}

const database = process.env.DATABASE_URL
  ? TypeOrmModule.forRoot({ type: 'postgres', url: process.env.DATABASE_URL, entities: [Photo], synchronize: true })
  : TypeOrmModule.forRoot({ type: 'better-sqlite3', database: ':memory:', entities: [Photo], synchronize: true });

@Module({
  imports: [
    database,
    TypeOrmModule.forFeature([Photo]),
    CacheTagsModule.forRoot({ store: process.env.REDIS_URL, namespace: 'nest-example' }),
  ],
  controllers: [PhotosController],
  providers: [PhotoService],
})
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  const photos = app.get(PhotoService);
  if ((await photos.findAll()).length === 0) for (const title of ['Sunrise', 'Harbour']) await photos.create(title);
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  console.log(`cache-tags NestJS example on http://localhost:${port}/photos`);
}

void main();
