/**
 * The pages' scripts: src/eval/web/*.ts (TypeScript checked by its DOM-only tsconfig), served as
 * JavaScript with the types stripped by Node's own stripper (the same erasable-syntax rule the
 * rest of vlalab runs under; no build step). Read and stripped once, on first use.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { join } from 'node:path';

const WEB_DIR = join(import.meta.dirname, '..', 'web');

let scripts: ReadonlyMap<string, string> | undefined;

/** `source` without its TypeScript types (a one-time ExperimentalWarning of the API is kept off the server's stderr). */
function stripTypes(source: string, file: string): string {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (!String(warning).includes('stripTypeScriptTypes')) (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return stripTypeScriptTypes(source, { mode: 'strip', sourceUrl: file });
  } finally {
    process.emitWarning = emit;
  }
}

/** The pages' scripts by URL path (`/web/operator.ts` -> its JavaScript). */
export function webScripts(): ReadonlyMap<string, string> {
  scripts ??= new Map(readdirSync(WEB_DIR).filter((f) => f.endsWith('.ts')).map((f) => [`/web/${f}`, stripTypes(readFileSync(join(WEB_DIR, f), 'utf8'), f)]));
  return scripts;
}
