// postinstall: links this package's own `vlalab` bin into node_modules/.bin. npm links the bins of
// dependencies only, so without it `npx vlalab` in a clone installs the project into npx's cache
// and checks its engines there against the system Node (an EBADENGINE warning under Node 20) before
// running it; with the link, npx runs bin/vlalab.js in place on the pinned Node 24.
import { existsSync, lstatSync, mkdirSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, 'node_modules', '.bin');
const link = join(binDir, 'vlalab');
if (process.platform !== 'win32' && existsSync(join(root, 'node_modules'))) {
  mkdirSync(binDir, { recursive: true });
  try {
    if (lstatSync(link, { throwIfNoEntry: false })) rmSync(link);
    symlinkSync(relative(binDir, join(root, 'bin', 'vlalab.js')), link);
    // npm trusts its record of node_modules (the hidden lockfile) only while nothing in node_modules
    // is newer; refresh it, or the next npm command rereads the tree and warns about engines again
    const hidden = join(root, 'node_modules', '.package-lock.json');
    if (existsSync(hidden)) utimesSync(hidden, new Date(), new Date());
  } catch (err) {
    console.warn(`vlalab: could not link node_modules/.bin/vlalab (${err.message}); \`npx vlalab\` still works, through npx's cache`);
  }
}
