import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wilsonInterval } from './intervals.ts';

describe('wilsonInterval', () => {
  it('matches published values', () => {
    // Newcombe (1998), Table I: 81/263 -> 0.2553 to 0.3662; 0/10 -> 0 to 0.2775
    const [lo, hi] = wilsonInterval(81, 263);
    assert.ok(Math.abs(lo - 0.2553) < 1e-4 && Math.abs(hi - 0.3662) < 1e-4, `${lo} ${hi}`);
    const [lo0, hi0] = wilsonInterval(0, 10);
    assert.equal(lo0, 0);
    assert.ok(Math.abs(hi0 - 0.2775) < 1e-4, `${hi0}`);
    const [lo1, hi1] = wilsonInterval(10, 10);
    assert.ok(Math.abs(lo1 - 0.7225) < 1e-4 && hi1 === 1);
  });
});
