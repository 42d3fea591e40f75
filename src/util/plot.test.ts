import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTick, logTicks, lossChartSvg, movingAverage, Rng } from './index.ts';

const yTicks = (svg: string) => [...svg.matchAll(/class="y-tick"[^>]*>([^<]+)</g)].map((m) => m[1]);

describe('loss charts', () => {
  it('labels a loss from 0.3 to 2.1 with several readable values, not one "1e0"', () => {
    const steps = Array.from({ length: 200 }, (_, i) => i + 1);
    const losses = steps.map((s) => 0.3 + 1.8 * Math.exp(-s / 40));
    const ticks = yTicks(lossChartSvg(steps, losses));
    assert.ok(ticks.length >= 4, ticks.join(' '));
    for (const t of ticks) assert.match(t, /^\d+(\.\d+)?$/);
    assert.ok(ticks.includes('1') || ticks.includes('1.5'), ticks.join(' '));
  });

  it('uses a log axis only when the losses span more than a factor of 10', () => {
    const steps = [1, 2, 3, 4];
    assert.match(lossChartSvg(steps, [2, 1.5, 1, 0.5]), /loss<\/text>/);
    const wide = lossChartSvg(steps, [2, 0.5, 0.05, 0.01]);
    assert.match(wide, /loss \(log scale\)/);
    assert.deepEqual(logTicks(Math.log10(0.3), Math.log10(2.1)), [0.3, 0.5, 1, 2]);
    assert.deepEqual(logTicks(-4, 1), [1e-4, 1e-3, 0.01, 0.1, 1, 10]);
    assert.deepEqual([0.5, 2, 1500, 1e-4, 250000].map(formatTick), ['0.5', '2', '1500', '1e-4', '3e5']);
  });

  it('draws a smoothed line over the faint raw one that follows the trend, not the noise', () => {
    const rng = new Rng(3);
    const steps = Array.from({ length: 500 }, (_, i) => i + 1);
    const trend = steps.map((s) => 1 + s / 500);
    const raw = trend.map((t) => t + 0.3 * rng.normal());
    const smooth = movingAverage(raw, 21);
    const err = (a: number[]) => Math.sqrt(a.reduce((s, v, i) => s + (v - trend[i]) ** 2, 0) / a.length);
    assert.ok(err(smooth) < err(raw) / 3, `${err(smooth)} vs ${err(raw)}`);
    assert.deepEqual(movingAverage([1, 2, 3, 4, 5], 3), [1.5, 2, 3, 4, 4.5]);
    const svg = lossChartSvg(steps, raw);
    assert.equal(svg.match(/<path /g)?.length, 2);
    assert.match(svg, /stroke-opacity="0.3"/);
    assert.match(svg, /loss \(21-point mean\)/);
  });

  it('draws further curves (a component of the loss, logged on some steps) in their own colour, on one axis', () => {
    const steps = Array.from({ length: 100 }, (_, i) => i + 1);
    const svg = lossChartSvg(steps, steps.map(() => 1), { also: [{ name: 'aim head error', steps: steps.slice(50), values: steps.slice(50).map(() => 0.05) }] });
    assert.equal(svg.match(/<path /g)?.length, 4);
    assert.match(svg, /aim head error \(3-point mean\)/);
    assert.match(svg, /stroke="#ff7f0e"/);
    assert.match(svg, /loss \(log scale\)/, 'the axis spans both curves: 0.05 to 1');
  });
});
