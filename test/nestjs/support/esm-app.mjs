// An ECMAScript-module NestJS application (NestJS 12 ships ESM only) that uses the ESM build of
// cache-tags through its package exports. Plain JavaScript: Nest's decorators are applied as
// functions. Run by esm-app.test.ts: serves one cached page over HTTP on the platform given as
// argv[2] and prints what it saw as JSON.
import 'reflect-metadata';
import { Controller, Get, Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cached, TagCache } from 'cache-tags';
import { CachePage, CacheTagsModule } from 'cache-tags/nestjs';

const platform = process.argv[2] ?? 'express';

class Books {
  runs = 0;
  async titles() {
    this.runs++;
    return ['Dune'];
  }
}
Injectable()(Books);
// A legacy method decorator may return the descriptor to define, as TypeScript's emit does.
const titles = Object.getOwnPropertyDescriptor(Books.prototype, 'titles');
Object.defineProperty(Books.prototype, 'titles', Cached({ tags: ['Book'] })(Books.prototype, 'titles', titles) ?? titles);

class BooksController {
  constructor(books) {
    this.books = books;
  }
  async list() {
    return { titles: await this.books.titles() };
  }
}
Inject(Books)(BooksController, undefined, 0);
Controller('books')(BooksController);
const list = Object.getOwnPropertyDescriptor(BooksController.prototype, 'list');
Get()(BooksController.prototype, 'list', list);
CachePage()(BooksController.prototype, 'list', list);

class AppModule {}
Module({ imports: [CacheTagsModule.forRoot({ namespace: `esm-${process.pid}` })], controllers: [BooksController], providers: [Books] })(AppModule);

const adapter = platform === 'fastify' ? new (await import('@nestjs/platform-fastify')).FastifyAdapter() : undefined;
const app = adapter ? await NestFactory.create(AppModule, adapter, { logger: false }) : await NestFactory.create(AppModule, { logger: false });
await app.listen(0, '127.0.0.1');
const url = `${await app.getUrl()}/books`.replace('[::1]', '127.0.0.1');
const get = async () => {
  const res = await fetch(url);
  return { status: res.status, cache: res.headers.get('x-cache'), body: await res.json() };
};
// The first call writes the Book tag's first version; a page computed in the same millisecond as
// that write is not stored (race safety), so the pages are asked for a moment later.
await app.get(Books).titles();
await new Promise((resolve) => setTimeout(resolve, 20));
const seen = [await get(), await get()];
await app.get(TagCache).invalidateTags(['Book']);
seen.push(await get());
const nest = (await import('@nestjs/core/package.json', { with: { type: 'json' } })).default.version;
await app.close();
console.log(JSON.stringify({ nest, runs: app.get(Books).runs, seen }));
