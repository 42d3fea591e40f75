/**
 * The blind study's pages in a real browser (playwright-core driving Debian's chromium; `.ci/run`
 * installs it): the operator, judge and admin flows end to end against the real API, and at every
 * step the operator's and judge's pages never hold a model name or URL.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { BlindStore, startBlindApi } from '../../src/eval/index.ts';
import { recordsDirOf, writeFrame } from '../../src/eval/blind/records.ts';
import { encodePng } from '../../src/util/index.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
const skip = CHROMIUM ? false : 'chromium is not installed (apt-get install chromium); the browser tests need it';

const MODELS = { 'model-alpha-secret': 'ws://10.1.2.3:7001', 'model-beta-secret': 'ws://10.1.2.4:7002' };
const SECRETS = [...Object.keys(MODELS), ...Object.values(MODELS), 'alpha', 'beta', '10.1.2'];
const TASK = { name: 'stack-bowls', instruction: 'stack the three bowls', rubric: [{ name: 'first bowl in', points: 1 }, { name: 'second bowl in', points: 2 }] };

function study(scoring: 'operator' | 'judge') {
  // one model per group and a 1 s rest: the operator meets a rest screen between the two groups
  return { name: `ui-${scoring}`, models: MODELS, tasks: [TASK], groupSize: 1, trialsPerModel: 1, scoring, restSeconds: 1, seed: 5 };
}

/** Fails if the page's HTML holds a model name, URL or alias. */
async function assertBlind(page: Page, aliases: string[], where: string): Promise<void> {
  const html = await page.content();
  for (const s of [...SECRETS, ...aliases]) assert.ok(!html.includes(s), `${where}: the page shows "${s}"`);
}

/** The layout facts of a page: one title, nothing wider than the window; a full-page screenshot under `dir`. */
async function assertLayout(page: Page, dir: string, name: string): Promise<void> {
  assert.equal(await page.locator('h1').count(), 1, `${name}: one title`);
  const scrollWidth = Number(await page.evaluate('document.documentElement.scrollWidth'));
  assert.ok(scrollWidth <= page.viewportSize()!.width, `${name} scrolls sideways: ${scrollWidth} px`);
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.fill('#token', token);
  await page.click('#login-button');
  await page.waitForSelector('#main:not([hidden])');
}

describe('blind study pages in chromium', { skip }, () => {
  let browser: Browser;
  let dir: string;
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    dir = mkdtempSync(join(tmpdir(), 'vlalab-ui-'));
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('operator and admin: sign in, pause and resume, run both trials through a rest, record points, read results and exports', async () => {
    const store = new BlindStore(join(dir, 'operator.db'));
    const tokens = store.create(study('operator'));
    const aliases = store.trials().map((t) => t.alias);
    const api = await startBlindApi(store);
    const context = await browser.newContext({ acceptDownloads: true });
    try {
      const op = await context.newPage();
      const admin = await context.newPage();
      // a wrong token is refused and the login form comes back
      await op.goto(`${api.url}/operator`);
      await op.fill('#token', tokens.judge);
      await op.click('#login-button');
      await op.waitForSelector('#login:not([hidden])');
      assert.match(await op.textContent('#error') ?? '', /operator/);

      await signIn(op, `${api.url}/operator`, tokens.operator);
      assert.equal(await op.textContent('#progress'), 'Trial 1 of 2');
      assert.equal(await op.textContent('#task'), 'stack-bowls');
      assert.equal(await op.textContent('#instruction'), 'stack the three bowls');
      await assertBlind(op, aliases, 'operator, first trial');

      // the admin pauses: the operator cannot start until the study resumes
      await signIn(admin, `${api.url}/admin`, tokens.admin);
      await admin.click('#pause-study');
      await admin.waitForFunction("document.getElementById('state').textContent === 'paused'");
      await op.reload();
      await op.waitForSelector('#paused:not([hidden])');
      assert.ok(await op.isHidden('#start'));
      await admin.click('#start-study');
      await admin.waitForFunction("document.getElementById('state').textContent === 'running'");
      await op.click('#refresh');
      await op.waitForSelector('#start:not([hidden])');

      // trial 1: start, tick the first stage, record 1 point
      await op.click('#start');
      await op.waitForSelector('#outcome:not([hidden])');
      await assertLayout(op, dir, 'operator-trial');
      assert.equal(await op.locator('#rubric input').count(), 2);
      assert.ok(await op.isVisible('#check-hint'), 'the operator is asked to check the stages');
      assert.ok(await op.isHidden('#end-hint'));
      await op.check('#stage-0');
      await op.click('#record');
      // trial 2 follows a group: a rest with a countdown, then the start button
      await op.waitForSelector('#rest:not([hidden])');
      assert.ok(await op.isHidden('#start'), 'no start during the rest');
      await op.waitForSelector('#start:not([hidden])', { timeout: 5000 });
      assert.equal(await op.textContent('#progress'), 'Trial 2 of 2');
      await op.click('#start');
      await op.waitForSelector('#outcome:not([hidden])');
      await assertBlind(op, aliases, 'operator, second trial running');
      await op.check('#stage-0');
      await op.check('#stage-1');
      await op.click('#record');
      await op.waitForSelector('#done:not([hidden])');
      await assertBlind(op, aliases, 'operator, done');

      // the judge of an operator-scored study is told there is nothing to judge, not left waiting
      const judge = await context.newPage();
      await signIn(judge, `${api.url}/judge`, tokens.judge);
      await judge.waitForSelector('#not-judged:not([hidden])');
      assert.ok(await judge.isHidden('#waiting'));
      assert.ok(await judge.isHidden('#done'));

      // the admin sees the de-anonymized results, the chart and the exports
      await admin.click('#refresh');
      await admin.waitForFunction("document.querySelectorAll('#results tbody tr').length === 2");
      assert.equal(await admin.textContent('#progress'), '2 of 2 trials recorded');
      const rows = await admin.locator('#results tbody tr').allTextContents();
      const scores = new Map(store.trials().map((t) => [t.model, t.points! / 3]));
      for (const row of rows) {
        const model = Object.keys(MODELS).find((m) => row.includes(m));
        assert.ok(model, `a results row names its model: ${row}`);
        assert.ok(row.includes(`${(100 * scores.get(model)!).toFixed(0)}%`), `${model}'s mean score in ${row}`);
      }
      await admin.waitForFunction("document.getElementById('chart').naturalWidth > 0");
      const [csv] = await Promise.all([admin.waitForEvent('download'), admin.click('#export-csv')]);
      const text = await new Response((await csv.createReadStream()) as unknown as ReadableStream).text();
      for (const m of Object.keys(MODELS)) assert.ok(text.includes(m), `the CSV export names ${m}`);
    } finally {
      await context.close();
      await api.close();
      store.close();
    }
  });

  it('judge: the operator ends trials, the judge sees each record and rubric without the model, and scores it once', async () => {
    const file = join(dir, 'judge.db');
    const store = new BlindStore(file);
    const tokens = store.create(study('judge'));
    const aliases = store.trials().map((t) => t.alias);
    const api = await startBlindApi(store);
    const context = await browser.newContext();
    try {
      const op = await context.newPage();
      const judge = await context.newPage();
      await signIn(judge, `${api.url}/judge`, tokens.judge);
      await judge.waitForSelector('#waiting:not([hidden])');

      await signIn(op, `${api.url}/operator`, tokens.operator);
      for (let k = 0; k < 2; k++) {
        await op.waitForSelector('#start:not([hidden])', { timeout: 5000 });
        await op.click('#start');
        await op.waitForSelector('#end:not([hidden])');
        assert.ok(await op.isHidden('#record'), 'no operator scoring in a judge-scored study');
        assert.ok(await op.isHidden('#check-hint'), 'no "check every stage" without checkboxes');
        assert.ok(await op.isVisible('#end-hint'));
        // the dispatcher writes the trial record; here the test writes two frames for it
        const trial = Number((await op.textContent('#progress'))!.match(/Trial (\d+)/)![1]);
        const rgb = new Uint8Array(16 * 16 * 3).fill(40 + 100 * k);
        for (let f = 0; f < 2; f++) writeFrame(recordsDirOf(file), trial, f, encodePng(rgb, 16, 16));
        await op.click('#end');
      }
      await op.waitForSelector('#done:not([hidden])');

      // no click: the waiting judge page checks again by itself (every 5 s)
      let previous = '';
      for (let k = 0; k < 2; k++) {
        // (page functions are strings: this project's TypeScript has no DOM types)
        await judge.waitForFunction(`!document.getElementById('trial-view').hidden && document.getElementById('trial').textContent !== ${JSON.stringify(previous)}
          && [...document.querySelectorAll('#frames img')].filter((i) => i.naturalWidth === 16).length === 2`);
        previous = (await judge.textContent('#trial'))!;
        await assertLayout(judge, dir, `judge-trial-${previous}`);
        assert.equal(await judge.textContent('#task'), 'stack-bowls');
        await assertBlind(judge, aliases, `judge, trial ${previous}`);
        await judge.check('#stage-0');
        if (k === 1) await judge.check('#stage-1');
        await judge.click('#score');
      }
      await judge.waitForSelector('#done:not([hidden])');
      assert.deepEqual(store.trials().map((t) => t.points).sort(), [1, 3]);
      assert.equal(store.progress().done, 2);
    } finally {
      await context.close();
      await api.close();
      store.close();
    }
  });
});
