// Tests, examples and benchmarks run as tsc output (decorator metadata included, as users compile
// them), plus the package build that the export tests load through the package's own name.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

const tsc = (project) => execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project], { stdio: 'inherit' });

rmSync('.build', { recursive: true, force: true });
tsc('test/tc39/tsconfig.json'); // standard (TC39) decorators
tsc('tsconfig.json'); // legacy experimentalDecorators, as TypeORM/MikroORM/NestJS users compile
execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
