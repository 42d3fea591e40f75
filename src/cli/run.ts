/**
 * Shared plumbing for CLI commands: one-line errors instead of stack traces, JSON output, reading
 * JSON input files.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { CommanderError } from 'commander';
import { API_KEY_ENV } from '../util/net.ts';
import { UserError } from '../util/errors.ts';

/** Prints `vlalab: error: <message>` and exits 1 for user errors; other errors keep their stack. */
export function reportError(err: unknown): never {
  if (err instanceof UserError) {
    process.stderr.write(`vlalab: error: ${err.message}\n`);
    process.exit(1);
  }
  if (err instanceof CommanderError) {
    // commander has already printed its message (and the help hint) on stderr
    process.exit(err.exitCode);
  }
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`vlalab: internal error (please report it): ${message}\n`);
  process.exit(2);
}

/** Wraps a command action so that thrown errors end as one clear line. */
export function action<A extends unknown[]>(fn: (...args: A) => void | Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      reportError(err);
    }
  };
}

/** Reads and parses a JSON file, with errors naming the file. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String(code ?? err)}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Writes a value as JSON on stdout (one document, newline-terminated). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Creates `dir` (and parents) or says why it cannot. */
export function ensureDir(dir: string): void {
  try {
    // parent by parent: Node's recursive mkdir spins forever under /proc
    const abs = resolve(dir);
    const parts = abs.split(sep).filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const p = sep + parts.slice(0, i).join(sep);
      if (!existsSync(p)) mkdirSync(p);
    }
    const probe = join(dir, '.vlalab-write-test');
    writeFileSync(probe, '');
    writeFileSync(probe, ''); // a second write catches read-only mounts that allow create
    rmSync(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new UserError(`cannot write to ${dir} (${code}); choose another --out`);
  }
}

/**
 * Parses an integer option in [min, max] or says which option is wrong (`name` as the user typed
 * it, e.g. "--seed").
 */
export function intOption(name: string, value: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new UserError(`${name} must be an integer ${range}, got "${value}"`);
  }
  return n;
}

/** An `--api-key` flag, else the VLALAB_API_KEY environment variable, else none; an empty key is refused. */
export function apiKeyOption(flag: string | undefined): string | undefined {
  const key = flag ?? process.env[API_KEY_ENV];
  if (key === undefined) return undefined;
  if (!key.trim()) throw new UserError(`${flag === undefined ? API_KEY_ENV : '--api-key'} is empty; pass a key, or unset ${API_KEY_ENV} to run without one`);
  return key;
}
