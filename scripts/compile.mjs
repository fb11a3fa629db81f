// One compile for everything the tests run: the legacy-decorator program over lib/, test/,
// examples/ and bench/ is type-checked once and emitted once, into
//   .build/        the tests, examples and benchmarks (CommonJS, with source maps),
//   dist/cjs/      the package's CommonJS build (lib/ only, no maps) with its declarations;
// dist/esm/ is the same sources transpiled file by file to ES modules (nothing left to check), with
// the same declarations beside them (under node16 a declaration is read as ESM or CJS by the
// package.json next to it: one shared set would "masquerade as CJS" to ESM importers), and
// the TC39-decorator tests are checked and emitted by their own small program. Type errors fail.
// BUILD_DIR lets several checkouts' builds run side by side.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { configOf, createProgram, diagnosticsOf, formatDiagnostics, isOwnSource, root, ts } from './programs.mjs';

const buildDir = join(root, process.env.BUILD_DIR ?? '.build');
const dist = join(root, 'dist');
const lib = join(root, 'lib');

function write(file, text) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

const insideLib = (file) => !relative(lib, file).startsWith('..');

/** Emits `program`'s own sources into the test build, and lib/ also into dist/ when `withPackage`. */
function emit(program, { only, withPackage }) {
  const outDir = program.getCompilerOptions().outDir;
  const writeFile = (file, text) => {
    const source = join(root, relative(outDir, file));
    if (file.endsWith('.d.ts')) {
      if (!withPackage || !insideLib(source)) return;
      for (const build of ['cjs', 'esm']) write(join(dist, build, relative(lib, source)), text);
      return;
    }
    write(join(buildDir, relative(outDir, file)), text);
    if (withPackage && insideLib(source) && file.endsWith('.js')) {
      write(join(dist, 'cjs', relative(lib, source)), text.replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n'));
    }
  };
  for (const sourceFile of program.getSourceFiles()) {
    if (!isOwnSource(sourceFile.fileName) || sourceFile.isDeclarationFile) continue;
    if (only && !only(sourceFile.fileName)) continue;
    program.emit(sourceFile, writeFile);
  }
}

/** The ES-module build: each lib file transpiled on its own, as `isolatedModules` allows. */
function emitEsm(program) {
  const options = { ...program.getCompilerOptions(), module: ts.ModuleKind.ES2022, moduleResolution: ts.ModuleResolutionKind.Bundler, sourceMap: false, declaration: false };
  for (const sourceFile of program.getSourceFiles()) {
    if (!isOwnSource(sourceFile.fileName) || sourceFile.isDeclarationFile || !insideLib(sourceFile.fileName)) continue;
    const { outputText } = ts.transpileModule(sourceFile.text, { compilerOptions: options, fileName: sourceFile.fileName });
    write(join(dist, 'esm', relative(lib, sourceFile.fileName).replace(/\.ts$/, '.js')), outputText);
  }
}

/*
 * `--quick` (the demo): every own source transpiled on its own into the test build, unchecked, in
 * a second or two. Decorator metadata is then taken from the written types alone, which the
 * examples' entities are written for.
 */
function emitQuick() {
  const { fileNames, options } = configOf('main');
  for (const fileName of fileNames) {
    const { outputText } = ts.transpileModule(ts.sys.readFile(fileName), { compilerOptions: { ...options, sourceMap: false }, fileName });
    write(join(buildDir, relative(root, fileName).replace(/\.ts$/, '.js')), outputText);
  }
}

const started = Date.now();
if (process.argv.includes('--quick')) {
  emitQuick();
  process.exit(0);
}
console.log('compile: type-checking lib, tests, examples and benchmarks, and building them and the package (about 20-30 s)');
rmSync(buildDir, { recursive: true, force: true });
rmSync(dist, { recursive: true, force: true });

// Declarations are emitted for lib/ only; the main program asks for them so that one check serves all.
const main = createProgram('main', { declaration: true });
const tc39 = createProgram('tc39');
const errors = [...diagnosticsOf(main), ...diagnosticsOf(tc39)];
for (const sourceFile of main.getSourceFiles()) {
  if (insideLib(sourceFile.fileName) && isOwnSource(sourceFile.fileName)) errors.push(...main.getDeclarationDiagnostics(sourceFile));
}
if (errors.length > 0) {
  process.stderr.write(formatDiagnostics(errors));
  console.error(`compile: ${errors.length} type error(s); nothing was run`);
  process.exit(1);
}
emit(main, { withPackage: true });
emit(tc39, { only: (file) => !relative(join(root, 'test', 'tc39'), file).startsWith('..') });
emitEsm(main);
write(join(dist, 'esm', 'package.json'), '{ "type": "module" }\n');
write(join(dist, 'cjs', 'package.json'), '{ "type": "commonjs" }\n');
console.log(`compile: type-checked and built lib, tests, examples and benchmarks in ${((Date.now() - started) / 1000).toFixed(1)} s`);
