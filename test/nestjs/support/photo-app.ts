import 'reflect-metadata';
import {
  Body,
  Controller,
  type DynamicModule,
  Get,
  Header,
  Headers,
  HttpCode,
  Injectable,
  Module,
  NotFoundException,
  Param,
  Patch,
  Post,
  Render,
  Req,
  Res,
  type CanActivate,
  type ExecutionContext,
  UseGuards,
  type INestApplication,
  type LoggerService,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { Column, Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import { Cached, CacheTags } from '../../../lib/index.js';
import { useViews } from './views.js';
import { CachePage, CacheTagsModule, type CacheTagsModuleOptions } from '../../../lib/nestjs/index.js';

@CacheTags((photo: Photo) => [`Photo_${photo.id}`])
@Entity()
export class Photo {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
}

@CacheTags((user: User) => [`User_${user.id}`])
@Entity()
export class User {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) name!: string;
}

/** How many times each handler and service method really ran: a cached response does not count. */
@Injectable()
export class Calls {
  private readonly counts = new Map<string, number>();
  count(name: string): void {
    this.counts.set(name, this.of(name) + 1);
  }
  of(name: string): number {
    return this.counts.get(name) ?? 0;
  }
}

@Injectable()
export class PhotoService {
  constructor(
    @InjectRepository(Photo) private readonly photos: Repository<Photo>,
    private readonly calls: Calls,
  ) {}

  @Cached({ tags: (id: number) => [`Photo_${id}`] })
  async findOne(id: number): Promise<Photo | null> {
    this.calls.count('PhotoService.findOne');
    return this.photos.findOneBy({ id });
  }

  @Cached(['Photo'])
  async findAll(): Promise<Photo[]> {
    this.calls.count('PhotoService.findAll');
    return this.photos.find({ order: { id: 'ASC' } });
  }

  async create(title: string): Promise<Photo> {
    return this.photos.save(this.photos.create({ title }));
  }

  async rename(id: number, title: string): Promise<Photo> {
    await this.photos.update({ id }, { title });
    return this.photos.findOneByOrFail({ id });
  }
}

@Controller('photos')
export class PhotosController {
  constructor(
    private readonly photos: PhotoService,
    private readonly calls: Calls,
    @InjectRepository(Photo) private readonly repository: Repository<Photo>,
  ) {}

  @Get()
  @CachePage()
  async list(): Promise<Photo[]> {
    this.calls.count('GET /photos');
    return this.photos.findAll();
  }

  @Get(':id')
  @CachePage({ tags: ({ params }) => [`Photo_${params.id}`] })
  async one(@Param('id') id: string): Promise<Photo> {
    this.calls.count('GET /photos/:id');
    const photo = await this.photos.findOne(Number(id));
    if (!photo) throw new NotFoundException(`No photo ${id}`);
    return photo;
  }

  @Get(':id/title')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @CachePage({ tags: ({ params }) => [`Photo_${params.id}`] })
  async title(@Param('id') id: string): Promise<string> {
    this.calls.count('GET /photos/:id/title');
    return (await this.photos.findOne(Number(id)))?.title ?? '';
  }

  @Get(':id/or-404')
  @CachePage({ tags: ({ params }) => [`Photo_${params.id}`], statuses: [404] })
  async oneOr404(@Param('id') id: string): Promise<Photo> {
    this.calls.count('GET /photos/:id/or-404');
    const photo = await this.photos.findOne(Number(id));
    if (!photo) throw new NotFoundException(`No photo ${id}`);
    return photo;
  }

  /** Reads the row with the repository itself: the tags of the loaded entity become the page's tags. */
  @Get(':id/direct')
  @CachePage()
  async direct(@Param('id') id: string): Promise<Photo | null> {
    this.calls.count('GET /photos/:id/direct');
    return this.repository.findOneBy({ id: Number(id) });
  }

  @Post()
  async create(@Body() body: { title: string }): Promise<Photo> {
    return this.photos.create(body.title);
  }

  @Patch(':id')
  async rename(@Param('id') id: string, @Body() body: { title: string }): Promise<Photo> {
    return this.photos.rename(Number(id), body.title);
  }
}

/** Server-side rendered pages: the template renders what the (cached) handler returned. */
@Controller('pages')
export class PagesController {
  constructor(
    private readonly photos: PhotoService,
    private readonly calls: Calls,
  ) {}

  @Get('photos/:id')
  @Render('photo')
  @CachePage({ tags: ({ params }) => [`Photo_${params.id}`] })
  async photo(@Param('id') id: string): Promise<{ title: string }> {
    this.calls.count('GET /pages/photos/:id');
    return { title: (await this.photos.findOne(Number(id)))?.title ?? 'none' };
  }
}

/** A bearer token is the user's name; a real app would verify it. */
function bearer(req: { headers: Record<string, string | string[] | undefined> }): string | undefined {
  const value = req.headers.authorization;
  return typeof value === 'string' && value.startsWith('Bearer ') ? value.slice(7) : undefined;
}

@Injectable()
class BearerGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest();
    const name = bearer(req);
    if (name) req.user = { id: name };
    return name !== undefined;
  }
}

/** Express's `res` and Fastify's `reply`, as a handler with `@Res({ passthrough: true })` sees them. */
type RawResponse = { setHeader(name: string, value: string): void } | { header(name: string, value: string): void };

function setHeader(res: RawResponse, name: string, value: string): void {
  if ('header' in res) res.header(name, value);
  else res.setHeader(name, value);
}

@Controller('users')
export class UsersController {
  constructor(private readonly calls: Calls) {}

  /** Forgets to vary by user: requests with credentials must never be cached. */
  @Get('greeting')
  @CachePage()
  greeting(@Headers() headers: Record<string, string>): string {
    this.calls.count('GET /users/greeting');
    return `hello ${bearer({ headers }) ?? 'guest'}`;
  }

  @Get('me')
  @CachePage({ vary: ['Authorization'] })
  me(@Headers() headers: Record<string, string>): { name: string } {
    this.calls.count('GET /users/me');
    return { name: bearer({ headers }) ?? 'guest' };
  }

  @Get('guarded')
  @UseGuards(BearerGuard)
  @CachePage({ vary: [(req) => req.user?.id] })
  guarded(@Req() req: { user: { id: string } }): { name: string } {
    this.calls.count('GET /users/guarded');
    return { name: req.user.id };
  }

  @Get('session')
  @CachePage()
  session(@Res({ passthrough: true }) res: RawResponse): { ok: true } {
    this.calls.count('GET /users/session');
    setHeader(res, 'Set-Cookie', `sid=${this.calls.of('GET /users/session')}; HttpOnly`);
    return { ok: true };
  }

  @Get('no-store')
  @CachePage()
  noStore(@Res({ passthrough: true }) res: RawResponse): { ok: true } {
    this.calls.count('GET /users/no-store');
    setHeader(res, 'Cache-Control', 'no-store');
    return { ok: true };
  }

  @Get('teapot')
  @HttpCode(418)
  @CachePage()
  teapot(): { ok: false } {
    this.calls.count('GET /users/teapot');
    return { ok: false };
  }
}

/** Where the app's rows live. */
export type Database = { type: 'sqlite' } | { type: 'postgres'; host: string; port: number; username: string; database: string };

export interface PhotoAppOptions {
  database: Database;
  cacheTags?: DynamicModule;
  cacheOptions?: CacheTagsModuleOptions;
  extraProviders?: Type[];
  /** Nest's HTTP platform. Default `express`. */
  platform?: Platform;
  /** The application's logger. Default: none. */
  logger?: LoggerService;
}

/** The HTTP platforms `@CachePage` serves, which the page suites run on. */
export const PLATFORMS = ['express', 'fastify'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** The photos/users app of the e2e suites, initialised (not listening: supertest binds a port per request). */
export async function createPhotoApp(options: PhotoAppOptions): Promise<INestApplication> {
  const db =
    options.database.type === 'sqlite'
      ? TypeOrmModule.forRoot({ type: 'better-sqlite3', database: ':memory:', entities: [Photo, User], synchronize: true })
      : TypeOrmModule.forRoot({ ...options.database, entities: [Photo, User], synchronize: true });

  @Module({
    imports: [db, TypeOrmModule.forFeature([Photo, User]), options.cacheTags ?? CacheTagsModule.forRoot(options.cacheOptions ?? {})],
    controllers: [PhotosController, UsersController, PagesController],
    providers: [Calls, PhotoService, BearerGuard, ...(options.extraProviders ?? [])],
  })
  class PhotoAppModule {}

  const settings = { logger: options.logger ?? (false as const), abortOnError: false };
  if (options.platform === 'fastify') {
    const app = await NestFactory.create<NestFastifyApplication>(PhotoAppModule, new FastifyAdapter(), settings);
    useViews(app, 'fastify');
    await app.init();
    // Fastify binds its routes once ready; supertest then serves it over real HTTP on its own port.
    await app.getHttpAdapter().getInstance().ready();
    return app;
  }
  const app = await NestFactory.create(PhotoAppModule, settings);
  useViews(app, 'express');
  await app.init();
  return app;
}
