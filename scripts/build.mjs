// Dual build: CommonJS and ESM output from the same sources, each with its type declarations (types
// beside an ESM build read as ESM under node16/nodenext; one shared set "masquerades as CJS").
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

const tsc = (...args) => execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', ...args], { stdio: 'inherit' });

rmSync('dist', { recursive: true, force: true });
tsc('--outDir', 'dist/cjs', '--module', 'commonjs', '--moduleResolution', 'node10', '--declaration');
tsc('--outDir', 'dist/esm', '--module', 'es2022', '--moduleResolution', 'bundler', '--declaration');
mkdirSync('dist/esm', { recursive: true });
writeFileSync('dist/esm/package.json', '{ "type": "module" }\n');
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');
