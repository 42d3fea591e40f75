import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { checkFile, checkJaxEntry, checkTree, importsOf, listSources } from './layering.ts';

describe('layering (STYLE.md allowed imports)', () => {
  it('the src/ tree has no forbidden imports', () => {
    const violations = checkTree(join(import.meta.dirname, '..', 'src'));
    assert.deepEqual(
      violations.map((v) => `${v.file}: ${v.spec}: ${v.reason}`),
      [],
    );
  });

  it('flags a lower layer importing a higher one', () => {
    const v = checkFile('geometry/pose.ts', "import { getEmbodiment } from '../actions/index.ts';\n");
    assert.equal(v.length, 1);
    assert.match(v[0].reason, /geometry may not import actions/);
    assert.equal(checkFile('model/mot.ts', "import { x } from '../sim/index.ts';").length, 1);
    assert.equal(checkFile('serving/x.ts', "export { y } from '../eval/index.ts';").length, 1);
    assert.equal(checkFile('actions/x.ts', "const m = await import('../data/index.ts');").length, 1);
  });

  it('flags reaching past another layer\'s index.ts', () => {
    const v = checkFile('actions/x.ts', "import { compose } from '../geometry/pose.ts';");
    assert.equal(v.length, 1);
    assert.match(v[0].reason, /through geometry\/index\.ts/);
  });

  it('allows same-layer, util, index and package imports', () => {
    const src = [
      "import { z } from 'zod';",
      "import type { Pose } from '../geometry/index.ts';",
      "import { UserError } from '../util/errors.ts';",
      "import { slot } from './layout.ts';",
    ].join('\n');
    assert.deepEqual(importsOf(src).length, 4);
    assert.deepEqual(checkFile('actions/x.ts', src), []);
  });

  it('jax-js is imported only through the model layer\'s backend (src, tests and benches)', () => {
    assert.equal(checkFile('training/x.ts', "import { tree } from '@jax-js/jax';").length, 1);
    assert.equal(checkFile('serving/x.ts', "import { numpy as np } from '@jax-js/jax';").length, 1);
    assert.deepEqual(checkFile('model/backend.ts', "export { jit } from '@jax-js/jax';"), []);
    const root = join(import.meta.dirname, '..');
    const outside = ['test', 'bench'].flatMap((d) => listSources(join(root, d)).map((f) => join(d, f)))
      .flatMap((f) => checkJaxEntry(join('..', f), readFileSync(join(root, f), 'utf8')));
    assert.deepEqual(outside.map((v) => `${v.file}: ${v.spec}`), []);
  });
});
