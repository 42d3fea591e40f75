/**
 * The layer rules of STYLE.md as code: which src/ folder may import which, and that other layers
 * are reached only through their index.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';

/** Allowed imports A -> B (besides A -> A and every layer -> util). */
export const ALLOWED: Record<string, readonly string[]> = {
  geometry: [],
  actions: ['geometry'],
  data: ['actions', 'geometry'],
  model: ['actions', 'geometry'],
  engine: [],
  training: ['model', 'data', 'engine', 'actions', 'geometry'],
  sim: ['geometry', 'actions'],
  serving: ['model', 'engine', 'actions', 'geometry'],
  eval: ['serving', 'sim', 'data', 'actions', 'geometry', 'model'],
  study: ['training', 'sim', 'eval', 'data', 'model', 'engine', 'serving', 'actions', 'geometry'],
  cli: ['geometry', 'actions', 'data', 'model', 'engine', 'training', 'sim', 'serving', 'eval', 'study'],
  util: [],
};

export type Violation = { file: string; spec: string; reason: string };

const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;

/** Module specifiers imported by a source text. */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(IMPORT_RE)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/**
 * Files that may import `@jax-js/jax` itself: the model layer's backend (the one entry: it installs
 * the Worker shim and the kernel memo before jax-js is evaluated) and the engine, which sits below
 * the model and traces jax-js programs (cli/main.ts loads the backend before any command).
 */
export function mayImportJax(relPath: string): boolean {
  const p = relPath.split(/[\\/]/).join('/');
  return p === 'model/backend.ts' || p.startsWith('engine/');
}

/** `@jax-js/jax` imports of a file outside `mayImportJax` (path relative to src/; test/ and bench/ files as `../test/...`). */
export function checkJaxEntry(relPath: string, source: string): Violation[] {
  if (mayImportJax(relPath)) return [];
  return importsOf(source).filter((spec) => spec === '@jax-js/jax' || spec.startsWith('@jax-js/jax/'))
    .map((spec) => ({ file: relPath, spec, reason: 'import jax-js through model/index.ts (model/backend.ts starts the thread pool and the kernel memo before jax-js loads)' }));
}

/** Checks one file (path relative to src/) with its source text. */
export function checkFile(relPath: string, source: string): Violation[] {
  const parts = relPath.split(/[\\/]/);
  const layer = parts[0];
  const violations: Violation[] = checkJaxEntry(relPath, source);
  if (!(layer in ALLOWED)) return [...violations, { file: relPath, spec: '', reason: `"${layer}" is not a known layer; add it to STYLE.md and test/layering.ts` }];
  for (const spec of importsOf(source)) {
    if (!spec.startsWith('.')) continue;
    const target = relative('/src', resolve('/src', dirname(relPath), spec)).split(sep);
    if (target[0] === '..') {
      // tests may use shared test helpers outside src/
      if (/\.test\.ts$/.test(relPath) && target.includes('test')) continue;
      violations.push({ file: relPath, spec, reason: 'imports from outside src/' });
      continue;
    }
    const to = target[0];
    if (to === layer || to === 'util') continue;
    if (!(ALLOWED[layer] ?? []).includes(to)) {
      violations.push({ file: relPath, spec, reason: `layer ${layer} may not import ${to} (allowed: ${[...(ALLOWED[layer] ?? []), 'util'].join(', ')})` });
    } else if (target.length !== 2 || target[1] !== 'index.ts') {
      violations.push({ file: relPath, spec, reason: `import ${to} through ${to}/index.ts, not ${target.join('/')}` });
    }
  }
  return violations;
}

/** Every .ts file under dir, relative to dir. */
export function listSources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts')) out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

/** Checks the whole src/ tree. */
export function checkTree(srcDir: string): Violation[] {
  return listSources(srcDir).flatMap((f) => checkFile(f, readFileSync(join(srcDir, f), 'utf8')));
}
