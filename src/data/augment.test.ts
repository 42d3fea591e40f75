import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../util/index.ts';
import { augments, augmentView } from './augment.ts';

const S = 8;
/** An image whose pixel (y, x, ch) encodes its own coordinates. */
const coded = () => Float32Array.from({ length: S * S * 3 }, (_, p) => {
  const ch = p % 3;
  const x = Math.floor(p / 3) % S;
  const y = Math.floor(p / (3 * S));
  return (y * S * 3 + x * 3 + ch) / (S * S * 3) - 0.5;
});

describe('training-time augmentation of a view', () => {
  it('shifts by a whole-pixel offset within the bound, repeating edge pixels', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const img = new Float32Array(5 + S * S * 3);
      img.set(coded(), 5);
      augmentView(img, 5, S, { shift: 2, color: 0 }, new Rng(seed), new Float32Array(S * S * 3));
      const orig = coded();
      // exact check: find the (dy, dx) in [-2, 2]^2 that reproduces the whole image
      const match = [];
      for (let a = -2; a <= 2; a++) for (let b = -2; b <= 2; b++) {
        let ok = true;
        for (let y = 0; y < S && ok; y++) for (let x = 0; x < S && ok; x++) for (let ch = 0; ch < 3; ch++) {
          const want = orig[(Math.min(S - 1, Math.max(0, y + a)) * S + Math.min(S - 1, Math.max(0, x + b))) * 3 + ch];
          if (img[5 + (y * S + x) * 3 + ch] !== want) { ok = false; break; }
        }
        if (ok) match.push(`${a},${b}`);
      }
      assert.equal(match.length, 1, `seed ${seed}: the view is not one shift of the original`);
      seen.add(match[0]);
      assert.deepEqual([...img.subarray(0, 5)], [0, 0, 0, 0, 0], 'only the view at the offset changes');
    }
    assert.ok(seen.size >= 10, `40 draws used only ${seen.size} of the 25 offsets`);
  });

  it('jitters colour within [-1, 1], the same way for the same draws, and changes nothing when off', () => {
    const a = coded();
    const b = coded();
    augmentView(a, 0, S, { shift: 0, color: 0.3 }, new Rng(7), new Float32Array(S * S * 3));
    augmentView(b, 0, S, { shift: 0, color: 0.3 }, new Rng(7), new Float32Array(S * S * 3));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, coded());
    assert.ok(a.every((v) => v >= -1 && v <= 1));
    assert.equal(augments({ shift: 0, color: 0 }), false);
    assert.equal(augments(undefined), false);
    assert.equal(augments({ shift: 1, color: 0 }), true);
  });
});
