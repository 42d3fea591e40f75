/**
 * Embodiment spec files: a user's own robot written as JSON in the registry's schema
 * (embodiment.ts), accepted wherever an embodiment name is (`--embodiment my-robot.json`).
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.ts';
import { defineEmbodiment, type Embodiment } from './embodiment.ts';
import { getEmbodiment } from './registry.ts';

/** True when `nameOrFile` names a spec file rather than a registered embodiment (it ends in .json). */
export function isEmbodimentFile(nameOrFile: string): boolean {
  return nameOrFile.endsWith('.json');
}

/** Reads and validates the spec file `file`; errors name the file and the field. */
export function loadEmbodimentFile(file: string): Embodiment {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`embodiment spec ${file} cannot be read (${code === 'ENOENT' ? 'no such file' : String(code ?? err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UserError(`embodiment spec ${file} is not valid JSON (${(err as Error).message})`);
  }
  return Object.freeze({ ...defineEmbodiment(json as never, `embodiment spec ${file}`), file });
}

/** A registered embodiment by name, or a spec file by path (ending in .json). */
export function resolveEmbodiment(nameOrFile: string): Embodiment {
  return isEmbodimentFile(nameOrFile) ? loadEmbodimentFile(nameOrFile) : getEmbodiment(nameOrFile);
}
