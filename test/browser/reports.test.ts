/**
 * The quickstart's report.html in a real browser (playwright-core driving Debian's chromium): the
 * layout facts a person sees when showing it to a colleague. One title, nothing wider than the
 * window (the rollout frames scale), labelled axes on the loss chart, step and camera labels on the
 * rollouts, and the one-line verdict. The report is built from fabricated recordings, in seconds.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { quickstartReport } from '../../src/cli/quickstart.ts';
import { type TaskEvaluation, wilsonInterval, writeRecording } from '../../src/eval/index.ts';
import { lossChartSvg, Rng } from '../../src/util/index.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
const skip = CHROMIUM ? false : 'chromium is not installed (apt-get install chromium); the browser tests need it';

/** A fabricated quickstart output folder: a loss curve and 3 recorded episodes per policy (64 px frames, 2 cameras, 60 steps). */
function fabricate(out: string, successes: number): TaskEvaluation {
  const rng = new Rng(7);
  mkdirSync(join(out, 'run'), { recursive: true });
  const steps = Array.from({ length: 1200 }, (_, i) => 10 * (i + 1));
  writeFileSync(join(out, 'run', 'loss.svg'), lossChartSvg(steps, steps.map((s) => (0.3 + 1.8 * Math.exp(-s / 1500)) * Math.exp(0.2 * rng.normal())), { name: 'flow-matching loss' }));
  const episodes = Array.from({ length: 10 }, (_, i) => ({ seed: i, success: i < successes, points: i < successes ? 1 : 0, maxPoints: 1, steps: 60, queries: 30, policyMs: 1 }));
  for (const policy of ['trained', 'baseline']) {
    for (const e of episodes.slice(0, 3)) {
      const frames = [0, 1].map((c) => Array.from({ length: 61 }, (_, t) => new Uint8Array(64 * 64 * 3).fill(40 + 3 * t + 60 * c)));
      writeRecording(join(out, 'eval', policy, 'pick-place', `seed-${e.seed}`), ['front', 'wrist'], frames, 64, e.success);
    }
  }
  return { task: 'pick-place', episodes, successRate: successes / 10, ci95: wilsonInterval(successes, 10), meanPoints: successes / 10, maxPoints: 1 };
}

describe('the quickstart report in chromium', { skip }, () => {
  let browser: Browser;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vlalab-report-'));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has one title, no horizontal scroll, axis ticks, labelled rollouts and a verdict', async () => {
    const ev = fabricate(dir, 0);
    const html = quickstartReport(dir, { trained: [ev], baseline: [ev], demos: { episodes: 2, frames: 90 }, trainSeconds: 4, steps: 40, presetSteps: 12000, model: 'debug', totalSeconds: 20 });
    writeFileSync(join(dir, 'report.html'), html);
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    await page.goto(`file://${join(dir, 'report.html')}`);
    const widths = async (selector: string) => (await page.locator(selector).evaluateAll((els) => els.map((e) => e.getBoundingClientRect().right)));
    const facts = {
      titles: await page.locator('h1').allTextContents(),
      scrollWidth: Number(await page.evaluate('document.documentElement.scrollWidth')),
      innerWidth: page.viewportSize()!.width,
      yTicks: await page.locator('svg .y-tick').allTextContents(),
      xTicks: await page.locator('svg .x-tick').count(),
      stepHeads: (await page.locator('table.frames th').allTextContents()).filter((t) => t.startsWith('step')).length,
      cameras: (await page.locator('table.frames tr th:first-child').allTextContents()).filter(Boolean),
      widestImage: Math.max(...await widths('img'), ...await widths('svg')),
      verdict: await page.locator('.verdict').textContent(),
    };
    assert.deepEqual(facts.titles, ['vlalab quickstart']);
    assert.ok(facts.scrollWidth <= facts.innerWidth, `the page scrolls sideways: ${facts.scrollWidth} > ${facts.innerWidth}`);
    assert.ok(facts.widestImage <= facts.innerWidth);
    // the loss (0.3 .. 2.1) and success charts carry readable tick values
    assert.ok(facts.yTicks.length >= 4, facts.yTicks.join(' '));
    assert.ok(facts.yTicks.some((t) => t === '1' || t === '0.5'), facts.yTicks.join(' '));
    assert.ok(facts.xTicks >= 3, String(facts.xTicks));
    assert.equal(facts.stepHeads, 6 * 8, 'eight step-labelled columns per rollout');
    assert.deepEqual([...new Set(facts.cameras)], ['front', 'wrist']);
    assert.match(facts.verdict ?? '', /Neither policy succeeded in 10 episodes: 40 training steps are too few/);
    const shot = join(dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000);
    await page.close();
  });
});
