/**
 * Shared plumbing for CLI commands: one-line errors instead of stack traces, JSON output, reading
 * JSON input files.
 */
import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
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
