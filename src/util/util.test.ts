import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { barChartSvg, editDistance, formatSeconds, lineChartSvg, Rng, unknownNameMessage, writeFileAtomic } from './index.ts';

describe('util', () => {
  it('Rng is deterministic, resumable from its state, and roughly uniform/normal', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 5 }, () => a.uniform());
    assert.deepEqual(xs, Array.from({ length: 5 }, () => b.uniform()));
    assert.notDeepEqual(xs, Array.from({ length: 5 }, () => new Rng(43).uniform()));
    const resumed = new Rng(a.state());
    assert.equal(resumed.nextU32(), a.nextU32());
    const r = new Rng(1);
    let sum = 0;
    let sq = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const v = r.normal();
      sum += v;
      sq += v * v;
    }
    assert.ok(Math.abs(sum / n) < 0.03, `mean ${sum / n}`);
    assert.ok(Math.abs(sq / n - 1) < 0.05, `var ${sq / n}`);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 8000; i++) counts[r.int(4)]++;
    for (const c of counts) assert.ok(Math.abs(c - 2000) < 200, `bucket ${c}`);
    const perm = r.shuffle([0, 1, 2, 3, 4, 5]);
    assert.deepEqual([...perm].sort(), [0, 1, 2, 3, 4, 5]);
  });

  it('suggests close names', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.match(unknownNameMessage('config', 'tny', ['debug', 'tiny', 'small']), /did you mean "tiny"/);
    assert.doesNotMatch(unknownNameMessage('config', 'zzzzzz', ['debug', 'tiny']), /did you mean/);
  });

  it('writes files atomically, leaving no temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-util-'));
    const p = join(dir, 'sub', 'x.json');
    writeFileAtomic(p, '{"a":1}');
    writeFileAtomic(p, new Uint8Array([123, 125]));
    assert.equal(readFileSync(p, 'utf8'), '{}');
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['x.json']);
    assert.ok(!existsSync(`${p}.tmp-${process.pid}`));
  });

  it('draws charts with one path per series and one rect per bar', () => {
    const svg = lineChartSvg([{ name: 'loss', x: [0, 1, 2], y: [1, 0.1, 0.01] }, { name: 'val', x: [0, 2], y: [2, 0.5] }], { logY: true, title: 'a < b' });
    assert.equal(svg.match(/<path /g)?.length, 2);
    assert.match(svg, /a &lt; b/);
    assert.match(svg, />0\.01</); // ticks as values on the log axis
    assert.match(svg, />0\.1</);
    const bars = barChartSvg([{ label: 'A', value: 0.5, lo: 0.3, hi: 0.7 }, { label: 'B', value: 0 }], { percent: true });
    assert.equal(bars.match(/<rect x=/g)?.length, 2);
    assert.match(bars, /50%/);
    // the value is written above the error bar, not across it
    const top = Number(/M[\d.]+,[\d.]+V([\d.]+)/.exec(bars)![1]);
    const label = Number(/y="([\d.]+)" text-anchor="middle">50%</.exec(bars)![1]);
    assert.ok(label < top, `label at y ${label}, error bar top at ${top}`);
    assert.equal(formatSeconds(3725), '1:02:05');
  });
});
