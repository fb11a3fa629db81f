// Tests, examples and benchmarks run as tsc output (decorator metadata included, as users compile
// them). Type errors are printed but do not stop the emit: `npm run typecheck` is the gate for them.
// BUILD_DIR lets several checkouts' builds run side by side.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';

const outDir = process.env.BUILD_DIR ?? '.build';
const tsc = (project) => spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project, '--outDir', outDir], { stdio: 'inherit' });

rmSync(outDir, { recursive: true, force: true });
tsc('test/tc39/tsconfig.json'); // standard (TC39) decorators
tsc('tsconfig.json'); // legacy experimentalDecorators, as TypeORM/MikroORM/NestJS users compile
