// The TypeScript programs of the repository, built once per process and shared by whatever needs
// them in it: type-checking, emitting the test build and the package, and type-aware lint.
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The projects, each a tsconfig: legacy decorators (what TypeORM, MikroORM and NestJS users compile), TC39 decorators, and the scripts. */
export const PROJECTS = {
  main: 'tsconfig.json',
  tc39: 'test/tc39/tsconfig.json',
  scripts: 'tsconfig.scripts.json',
};

/** Parses the tsconfig of `project` (a key of PROJECTS) into the inputs of a program. */
export function configOf(project) {
  const file = join(root, PROJECTS[project]);
  const read = ts.readConfigFile(file, ts.sys.readFile);
  if (read.error) throw new Error(ts.formatDiagnostic(read.error, host));
  return ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(file), undefined, file);
}

const host = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => root,
  getNewLine: () => '\n',
};

/** A program for `project` (a key of PROJECTS), with `overrides` over its compiler options. */
export function createProgram(project, overrides = {}) {
  const config = configOf(project);
  const options = { ...config.options, ...overrides };
  return ts.createProgram({ rootNames: config.fileNames, options, projectReferences: config.projectReferences, configFileParsingDiagnostics: config.errors });
}

/** Every error of `program`: options, syntax and types. Files of node_modules count only for their own syntax. */
export function diagnosticsOf(program) {
  return ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error);
}

export function formatDiagnostics(diagnostics) {
  return ts.formatDiagnosticsWithColorAndContext(diagnostics, host);
}

/** Whether `file` (absolute) is a source file of the repository, not of a dependency. */
export function isOwnSource(file) {
  const rel = relative(root, file);
  return !rel.startsWith('..') && !rel.split(/[\\/]/).includes('node_modules');
}

export { ts };
