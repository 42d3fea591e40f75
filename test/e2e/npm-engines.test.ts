/**
 * `npm ci` under a system Node older than 22 (machines here ship Node 20; the project runs on the
 * pinned Node 24 of its `node` devDependency) must not warn EBADENGINE about vlalab itself, while
 * engines.node still says >=22 for anyone who installs vlalab as a dependency. package.json's
 * devEngines (npm is the tool that develops it) makes npm skip the root package's engines check.
 * `npx vlalab` runs the project's own bin, which the postinstall script links into node_modules/.bin.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');

/** A `node` on PATH outside node_modules (the system's), with its major version. */
function systemNode(): { bin: string; major: number } | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const bin = join(dir, 'node');
    if (dir.includes('node_modules') || !existsSync(bin)) continue;
    const v = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
    return { bin, major: Number(/^v(\d+)/.exec(v)?.[1] ?? 0) };
  }
  return undefined;
}

/** npm's own script (npm-cli.js), to run under a chosen node. */
function npmCli(): string | undefined {
  if (process.env.npm_execpath?.endsWith('.js')) return process.env.npm_execpath;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const bin = join(dir, 'npm');
    if (!dir.includes('node_modules') && existsSync(bin)) return realpathSync(bin);
  }
  return undefined;
}

const node = systemNode();
const npm = npmCli();
const skip = !node || !npm ? 'no system node and npm on PATH' : node.major >= 22 ? `the system Node is ${node.major} (the warning needs one older than 22)` : false;

describe('npm under an older system Node', () => {
  it('npm ci (dry run, offline) prints no EBADENGINE for vlalab; engines.node stays >=22', { skip }, () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.engines.node, '>=22');
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-npm-'));
    try {
      for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(ROOT, f), join(dir, f));
      const r = spawnSync(node!.bin, [npm!, 'ci', '--dry-run', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--cache', join(dir, 'cache')], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stderr + r.stdout, /EBADENGINE|EBADDEVENGINES/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('npx vlalab runs the linked bin in place: no EBADENGINE, no install into npx\'s cache', { skip }, () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.scripts.postinstall, 'node scripts/link-bin.mjs');
    const link = spawnSync(process.execPath, [join(ROOT, 'scripts', 'link-bin.mjs')], { encoding: 'utf8' }); // what npm ci ran
    assert.equal(link.status, 0, link.stderr);
    assert.equal(realpathSync(join(ROOT, 'node_modules', '.bin', 'vlalab')), realpathSync(join(ROOT, 'bin', 'vlalab.js')));
    const npx = join(npm!, '..', 'npx-cli.js');
    // npx itself under the system Node, in a user's shell environment (none of the npm_* settings of an enclosing `npm test`)
    const shell = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
    const env = { ...shell, PATH: `${join(node!.bin, '..')}${delimiter}${process.env.PATH}` };
    // npm rereads node_modules (and warns once) when anything there is newer than its hidden lockfile,
    // which other tests running beside this one can cause; a second run then reads the record npx
    // rewrote. Without the link every run warns (npx installs the project into its cache each time).
    const runs = [0, 1].map(() => spawnSync(node!.bin, [npx, 'vlalab', '--version'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env }));
    for (const r of runs) {
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), pkg.version);
    }
    assert.doesNotMatch(runs[1].stderr, /EBADENGINE/);
  });
});
