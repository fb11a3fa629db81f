// Preload (`node --import`) of a version leg: every import or require of a package the leg's
// manifest lists, from the library, the tests or any dependency, resolves to the leg's own copy in
// CACHE_TAGS_LEG_DIR. Everything else resolves as usual (peers of the leg's packages included, from
// the repository's node_modules).
import { readFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.env.CACHE_TAGS_LEG_DIR;
if (!dir) throw new Error('leg-preload: CACHE_TAGS_LEG_DIR is not set');
const names = Object.keys(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies ?? {});

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`). */
const packageOf = (specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

register('./leg-hooks.mjs', import.meta.url, { data: { parentURL: pathToFileURL(join(dir, 'package.json')).href, names } });

const legParent = { id: join(dir, 'index.js'), filename: join(dir, 'index.js'), paths: Module._nodeModulePaths(dir) };
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  return resolve.call(this, request, names.includes(packageOf(request)) ? legParent : parent, ...rest);
};
