/*
 * The types of the packed tarball resolve for every entry point under each module resolution a
 * TypeScript user may have: node10 (a classic `"module": "commonjs"` tsconfig), node16 from CommonJS
 * and from ESM (ESM code must get ESM types, not CJS ones "masquerading"), and bundler. Checked with
 * arethetypeswrong on what `npm pack` ships (dist/ is built by `npm test`'s pretest).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const root = join(__dirname, '..', '..');
const ENTRY_POINTS = ['.', './typeorm', './mikro-orm', './nestjs'];
const RESOLUTIONS = ['node10', 'node16-cjs', 'node16-esm', 'bundler'];

interface Resolution {
  resolution?: { fileName: string; isTypeScript: boolean };
}
interface Report {
  problems: Record<string, unknown[]> | unknown[];
  analysis: { entrypoints: Record<string, { resolutions: Record<string, Resolution> }> };
}

describe('the types of the packed package', { skip: existsSync(join(root, 'dist/cjs/index.js')) ? false : 'dist/ is not built (npm run build)' }, () => {
  let folder: string;
  let report: Report;
  let status: number | null;

  before(() => {
    folder = mkdtempSync(join(tmpdir(), 'ct-pack-'));
    // dist/ is already built: the prepack script would build it a second time.
    execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', folder], { cwd: root, encoding: 'utf8' });
    const tarball = join(folder, readdirSync(folder).find((name) => name.endsWith('.tgz'))!);
    const attw = spawnSync(process.execPath, [join(root, 'node_modules/@arethetypeswrong/cli/dist/index.js'), tarball, '--format', 'json'], { encoding: 'utf8' });
    status = attw.status;
    report = JSON.parse(attw.stdout) as Report;
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it('arethetypeswrong finds no problem', () => {
    const problems = Array.isArray(report.problems) ? report.problems : Object.values(report.problems).flat();
    assert.deepEqual(problems, []);
    assert.equal(status, 0);
  });

  for (const entry of ENTRY_POINTS) {
    it(`cache-tags${entry.slice(1)} has declarations under node10, node16 (CJS and ESM) and bundler, in the module format of the code it describes`, () => {
      const { resolutions } = report.analysis.entrypoints[entry];
      for (const kind of RESOLUTIONS) {
        const file = resolutions[kind]?.resolution?.fileName ?? '';
        assert.match(file, /\.d\.ts$/, `${entry} under ${kind}`);
        assert.match(file, kind === 'node16-esm' || kind === 'bundler' ? /\/dist\/esm\// : /\/dist\/cjs\//, `${entry} under ${kind}: ${file}`);
      }
    });
  }
});
