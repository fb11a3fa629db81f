// A node:test reporter for scripts/run-tests.mjs: one line per test file as it finishes, the full
// story of each failure, each failed file with its counts at the end, and the counts as one JSON
// line for the runner to add up.
import { relative, resolve } from 'node:path';

const buildDir = resolve(process.env.BUILD_DIR ?? '.build');
/** A test file as its source is named: `test/core/keys.test.ts` (source maps may already point there). */
const short = (file) => {
  if (!file) return '?';
  const path = resolve(file);
  const inBuild = relative(buildDir, path);
  return (inBuild.startsWith('..') ? relative(process.cwd(), path) : inBuild).replace(/\.js$/, '.ts');
};

function describeError(error) {
  const cause = error?.cause ?? error;
  return String(cause?.stack ?? cause?.message ?? cause);
}

const failure = (file, name, error) => `\n  FAILED: ${short(file)} › ${name}\n${describeError(error).replace(/^/gm, '    ')}\n\n`;

export default async function* reporter(source) {
  const totals = { passed: 0, failed: 0, skipped: 0 };
  const perFile = new Map();
  // Keyed by source name: with source maps a test's events may name the .ts file, its file's the .js.
  const countsOf = (file) => {
    const name = short(file);
    if (!perFile.has(name)) perFile.set(name, { passed: 0, failed: 0, skipped: 0, started: Date.now() });
    return perFile.get(name);
  };
  const add = (file, outcome) => {
    countsOf(file)[outcome] += 1;
    totals[outcome] += 1;
  };
  for await (const { type, data } of source) {
    // node reports each file as a wrapper test named by its path, after everything in it.
    const isFile = data?.file !== undefined && data.name === data.file;
    if (type === 'test:start' && data.nesting === 0) countsOf(data.file);
    if (isFile) {
      if (type !== 'test:complete') continue;
      const error = data.details?.error;
      // A file that threw outside its tests (an import that failed, an unhandled rejection).
      if (error && error.failureType !== 'subtestsFailed') {
        add(data.file, 'failed');
        yield failure(data.file, 'the file itself', error);
      }
      // No counts here: a file's own test:complete may arrive before the events of its tests, so
      // they are summed at the end, where every event is in.
      const c = countsOf(data.file);
      yield `  done ${short(data.file)} (${((data.details?.duration_ms ?? Date.now() - c.started) / 1000).toFixed(1)} s)\n`;
      continue;
    }
    const isSuite = data?.details?.type === 'suite';
    // Counted on test:complete, which for a test of a file arrives before the file's own
    // test:complete; its test:pass / test:fail come in declaration order and may arrive after it.
    if (type === 'test:complete') {
      const error = data.details?.error;
      if (data.details?.passed) {
        if (!isSuite) add(data.file, data.skip !== undefined || data.todo !== undefined ? 'skipped' : 'passed');
      } else if (!isSuite || error?.failureType !== 'subtestsFailed') {
        // A suite fails when one of its tests did (counted there), or when a hook of its threw.
        add(data.file, 'failed');
      }
    } else if (type === 'test:pass' && !isSuite && (data.skip !== undefined || data.todo !== undefined)) {
      yield `  skipped: ${short(data.file)} › ${data.name}${typeof data.skip === 'string' ? ` (${data.skip})` : ''}\n`;
    } else if (type === 'test:fail' && !(isSuite && data.details?.error?.failureType === 'subtestsFailed')) {
      yield failure(data.file, data.name, data.details?.error);
    } else if (type === 'test:stderr' || type === 'test:stdout') {
      yield `  [${short(data.file)}] ${data.message}`;
    }
  }
  for (const [name, c] of perFile) {
    if (c.failed) yield `  ✗ ${name}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped\n`;
  }
  yield `#counts ${JSON.stringify(totals)}\n`;
}
