import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Eta } from 'eta';
import type { Platform } from './photo-app.js';

/** The server-side templates of the photo app, written once per process into a folder of their own. */
let folder: string | undefined;
function templates(): string {
  if (folder) return folder;
  const made = mkdtempSync(join(tmpdir(), 'ct-views-'));
  process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  folder = made;
  writeFileSync(join(made, 'photo.eta'), '<h1><%= it.title %></h1>\n');
  return folder;
}

/** Gives the app a real view engine (Eta) on its platform, so that `@Render` routes render templates. */
export function useViews(app: INestApplication, platform: Platform): void {
  const dir = templates();
  const eta = new Eta({ views: dir, cache: true });
  if (platform === 'fastify') {
    void (app as NestFastifyApplication).setViewEngine({ engine: { eta }, templates: dir });
    return;
  }
  const express = app as NestExpressApplication;
  express.engine('eta', (file: string, data: object, done: (error: unknown, html?: string) => void) => {
    try {
      done(null, eta.renderString(readFileSync(file, 'utf8'), data));
    } catch (error) {
      done(error);
    }
  });
  express.setBaseViewsDir(dir);
  express.setViewEngine('eta');
}
