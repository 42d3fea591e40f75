/**
 * JSON with comments (`//` to the end of the line, `/* ... *\/`), as in tsconfig.json and VS Code
 * settings: hand-written files (a study definition) can explain themselves.
 */

/** `text` with every comment outside strings replaced by spaces (line breaks kept, so JSON.parse positions still match). */
export function stripJsonComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') [out, i] = [out + ' ', i + 1];
      i--;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop - 1;
    } else {
      out += c;
    }
  }
  return out;
}

/** JSON.parse of JSON with comments. */
export function parseJsonc(text: string): unknown {
  return JSON.parse(stripJsonComments(text));
}
