// Run by module.test.ts in a child process: an app that uses Redis, closes, and must then exit.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cached } from '../../../lib/index.js';
import { CacheTagsModule } from '../../../lib/nestjs/index.js';
import { REDIS_URL } from '../../support/servers.js';

@Injectable()
class Greeter {
  @Cached({ tags: (name: string) => [`Name_${name}`] })
  async greet(name: string): Promise<string> {
    return `hello ${name}`;
  }
}

@Module({ imports: [CacheTagsModule.forRoot({ store: REDIS_URL, namespace: `t-${randomUUID()}`, caches: { other: {} } })], providers: [Greeter] })
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
  const greeting = await app.get(Greeter).greet('redis');
  await app.close();
  console.log(greeting);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
