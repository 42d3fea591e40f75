import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodePng, encodePng } from '../../util/index.ts';
import { startBlindApi } from './api.ts';
import { startDispatcher } from './dispatcher.ts';
import { recordsDirOf, writeFrame } from './records.ts';
import { driveStudy } from './simulate.ts';
import { SimOracle, simStudyDefinition, startSimModels } from './sim-models.ts';
import { BlindStore, type Role } from './store.ts';

const MODELS = { 'secret-model-one': 'ws://10.0.0.1:8001', 'secret-model-two': 'ws://10.0.0.2:8002', 'secret-model-three': 'ws://10.0.0.3:8003' };
const definition = {
  name: 'api', models: MODELS, groupSize: 2, trialsPerModel: 2, restSeconds: 60, seed: 3,
  tasks: [{ name: 'stack-bowls', instruction: 'stack the bowls', rubric: [{ name: 'pick', points: 1 }, { name: 'stack', points: 2 }] }],
};

/** Every endpoint of each role, for the role checks. */
const ENDPOINTS: Record<Role, [string, string][]> = {
  operator: [['GET', '/api/operator/current'], ['POST', '/api/operator/start'], ['POST', '/api/operator/record'], ['POST', '/api/operator/end']],
  judge: [['GET', '/api/judge/next'], ['GET', '/api/judge/frame?trial=1&k=0'], ['POST', '/api/judge/score']],
  admin: [['GET', '/api/admin/progress'], ['POST', '/api/admin/start'], ['POST', '/api/admin/pause'], ['GET', '/api/admin/results'],
    ['GET', '/api/admin/export.json'], ['GET', '/api/admin/export.csv'], ['GET', '/api/admin/chart.svg']],
};

type Call = (path: string, token: string | undefined, body?: unknown, method?: string) => Promise<{ status: number; text: string; type: string; bytes: Uint8Array }>;

function caller(url: string): Call {
  return async (path, token, body, method) => {
    const r = await fetch(url + path, {
      method: method ?? (body === undefined ? 'GET' : 'POST'),
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const bytes = new Uint8Array(await r.arrayBuffer());
    return { status: r.status, text: Buffer.from(bytes).toString('latin1'), type: r.headers.get('content-type') ?? '', bytes };
  };
}

/** Each role's endpoints refuse the other roles' tokens and no token. */
async function checkRoles(call: Call, tokens: Record<Role, string>): Promise<void> {
  for (const [role, endpoints] of Object.entries(ENDPOINTS)) {
    for (const [method, path] of endpoints) {
      assert.equal((await call(path, undefined, undefined, method)).status, 401, `${path} without a token`);
      for (const other of ['admin', 'operator', 'judge'] as const) {
        if (other !== role) assert.equal((await call(path, tokens[other], method === 'POST' ? {} : undefined, method)).status, 403, `${path} with the ${other}'s token`);
      }
    }
  }
}

/** Asserts that no response a non-admin saw holds a model name, URL or alias. */
function assertNoLeak(seen: { path: string; text: string }[], secrets: string[], aliases: string[]): void {
  for (const { path, text } of seen) {
    for (const s of secrets) assert.ok(!text.includes(s), `${path} leaks "${s}": ${text.slice(0, 300)}`);
    for (const a of aliases) assert.ok(!new RegExp(`\\b${a}\\b`).test(text), `${path} leaks the alias ${a}: ${text.slice(0, 300)}`);
  }
}

describe('blind study HTTP API', () => {
  it('serves the pages\' TypeScript (src/eval/web) as plain JavaScript modules, types stripped; names its bound host', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-web-'));
    const store = new BlindStore(join(dir, 'study.db'));
    store.create({ name: 'web', models: { a: 'ws://127.0.0.1:1' }, trialsPerModel: 1, tasks: [{ name: 't', instruction: 'i', rubric: [{ name: 's', points: 1 }] }] });
    const api = await startBlindApi(store, { host: '0.0.0.0' });
    try {
      assert.match(api.url, /^http:\/\/0\.0\.0\.0:\d+$/, 'the URL names the host the API is bound to');
      for (const name of ['common', 'operator', 'judge', 'admin']) {
        const res = await fetch(`${api.url}/web/${name}.ts`);
        assert.equal(res.status, 200, name);
        assert.match(res.headers.get('content-type') ?? '', /^text\/javascript/);
        const js = await res.text();
        assert.match(js, /\bimport\b|addEventListener/);
        // plain JavaScript: node --check parses an .mjs without stripping anything
        const file = join(dir, `${name}.mjs`);
        writeFileSync(file, js);
        const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
        assert.equal(check.status, 0, `${name}: ${check.stderr}`);
      }
      assert.match(await (await fetch(`${api.url}/operator`)).text(), /<script type="module" src="\/web\/operator\.ts">/);
      assert.equal((await fetch(`${api.url}/web/nope.ts`)).status, 404);
    } finally {
      await api.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs a study through the operator API without revealing any model, and gives the admin the results', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-api-'));
    const store = new BlindStore(join(dir, 'study.db'));
    const tokens = store.create(definition);
    const api = await startBlindApi(store);
    const call = caller(api.url);
    const secrets = [...Object.keys(MODELS), ...Object.values(MODELS), '10.0.0.', 'secret', 'alias'];
    const seen: { path: string; text: string }[] = [];
    try {
      await checkRoles(call, tokens);
      assert.equal((await call('/api/nope', tokens.admin)).status, 404);
      assert.equal((await call('/api/admin/start', tokens.admin, undefined, 'GET')).status, 405);
      assert.deepEqual(JSON.parse((await call('/api/admin/pause', tokens.admin, {})).text), { state: 'paused' });
      const first = JSON.parse((await call('/api/operator/current', tokens.operator)).text);
      assert.equal(first.paused, true);
      const refused = await call('/api/operator/start', tokens.operator, { trial: first.trial });
      assert.equal(refused.status, 400);
      assert.match(refused.text, /the study is paused by the admin/);
      assert.deepEqual(JSON.parse((await call('/api/admin/start', tokens.admin, {})).text), { state: 'running' });
      let rests = 0;
      for (let n = 0; n < 100; n++) {
        const cur = await call('/api/operator/current', tokens.operator);
        seen.push({ path: 'current', text: cur.text });
        const v = JSON.parse(cur.text);
        if (v.done) break;
        assert.equal(v.scoring, 'operator');
        if (v.restBeforeSeconds > 0) rests++;
        const bad = await call('/api/operator/record', tokens.operator, '{not json');
        assert.equal(bad.status, 400);
        seen.push({ path: 'record', text: bad.text });
        const started = await call('/api/operator/start', tokens.operator, { trial: v.trial });
        assert.equal(started.status, 200, started.text);
        seen.push({ path: 'start', text: started.text });
        const ended = await call('/api/operator/end', tokens.operator, { trial: v.trial });
        assert.equal(ended.status, 400);
        assert.match(ended.text, /scored by the operator/);
        const tooMany = await call('/api/operator/record', tokens.operator, { trial: v.trial, points: 9 });
        assert.equal(tooMany.status, 400);
        assert.match(tooMany.text, /points must be an integer in \[0, 3\]/);
        const rec = await call('/api/operator/record', tokens.operator, { trial: v.trial, points: v.trial % 4 });
        assert.equal(rec.status, 200, rec.text);
        seen.push({ path: 'record', text: rec.text });
        assert.equal((await call('/api/operator/record', tokens.operator, { trial: v.trial, points: 1 })).status, 400); // never twice
      }
      assert.equal(rests, 1, 'two groups: one rest between them');
      assertNoLeak(seen, secrets, store.trials().map((t) => t.alias));
      const progress = JSON.parse((await call('/api/admin/progress', tokens.admin)).text);
      assert.deepEqual(progress, { done: 6, ended: 0, total: 6, state: 'done' });
      assert.equal((await call('/api/admin/start', tokens.admin, {})).status, 400, 'a complete study cannot be restarted');
      const results = JSON.parse((await call('/api/admin/results', tokens.admin)).text);
      assert.deepEqual(results.cells.map((c: { model: string }) => c.model).sort(), Object.keys(MODELS).sort());
      assert.ok(results.cells.every((c: { trials: number }) => c.trials === 2));

      const json = JSON.parse((await call('/api/admin/export.json', tokens.admin)).text);
      assert.equal(json.trials.length, 6);
      assert.deepEqual(json.summary, results);
      const csv = await call('/api/admin/export.csv', tokens.admin);
      assert.match(csv.type, /^text\/csv/);
      const lines = csv.text.trim().split('\r\n');
      assert.equal(lines.length, 7);
      assert.equal(lines[0], 'trial,block,position,task,alias,model,status,points,maxPoints,score,startedAt,endedAt,scoredAt');
      const row = lines[1].split(',');
      const t1 = json.trials[0];
      assert.deepEqual([row[0], row[4], row[5], row[7]], [String(t1.trial), t1.alias, t1.model, String(t1.points)]);
      const summary = (await call('/api/admin/export.csv?table=summary', tokens.admin)).text.trim().split('\r\n');
      assert.equal(summary.length, 1 + 3);
      assert.match(summary[0], /^model,task,trials,successes,successRate,successLo95,successHi95,meanScore,scoreLo95,scoreHi95$/);
      assert.equal((await call('/api/admin/export.csv?table=nope', tokens.admin)).status, 400);
      const svg = await call('/api/admin/chart.svg', tokens.admin);
      assert.match(svg.type, /^image\/svg\+xml/);
      assert.match(svg.text, /^<svg /);
      for (const m of Object.keys(MODELS)) assert.ok(svg.text.includes(`>${m}</text>`), `the chart's legend names ${m}`);
      const bars = [...svg.text.matchAll(/<rect [^>]*><title>([^<]*)<\/title>/g)].map((m) => m[1]);
      assert.deepEqual(bars.map((b) => b.split(',')[0]).sort(), Object.keys(MODELS).sort(), 'one bar per model');
      const whiskers = svg.text.match(/<path d="M[\d.]+,[\d.]+V[\d.]+/g) ?? [];
      assert.equal(whiskers.length, 3, 'an interval whisker per bar');
    } finally {
      await api.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('judge scoring: the operator ends trials, the judge scores each once from its record, seeing a trial id only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-api-'));
    const store = new BlindStore(join(dir, 'study.db'));
    const tokens = store.create({ ...definition, scoring: 'judge' });
    const api = await startBlindApi(store);
    const call = caller(api.url);
    try {
      assert.deepEqual(JSON.parse((await call('/api/judge/next', tokens.judge)).text), { waiting: true, done: false });
      const order: number[] = [];
      for (let v = JSON.parse((await call('/api/operator/current', tokens.operator)).text); !v.done; v = JSON.parse((await call('/api/operator/current', tokens.operator)).text)) {
        assert.equal(v.scoring, 'judge');
        assert.equal((await call('/api/operator/start', tokens.operator, { trial: v.trial })).status, 200);
        // what the dispatcher would record: frames whose first pixel is the trial id
        for (let k = 0; k < 2; k++) writeFrame(recordsDirOf(store.file), v.trial, k, encodePng(new Uint8Array(4 * 4 * 3).fill(10 * v.trial + k), 4, 4));
        const rec = await call('/api/operator/record', tokens.operator, { trial: v.trial, points: 1 });
        assert.equal(rec.status, 400);
        assert.match(rec.text, /scored by a judge: end the trial/);
        const ended = await call('/api/operator/end', tokens.operator, { trial: v.trial });
        assert.equal(ended.status, 200, ended.text);
        order.push(v.trial);
      }
      assert.deepEqual(JSON.parse((await call('/api/admin/progress', tokens.admin)).text), { done: 0, ended: 6, total: 6, state: 'running' });
      const judged: number[] = [];
      for (let j = JSON.parse((await call('/api/judge/next', tokens.judge)).text); !j.done; j = JSON.parse((await call('/api/judge/next', tokens.judge)).text)) {
        assert.deepEqual(Object.keys(j).sort(), ['frames', 'instruction', 'remaining', 'rubric', 'task', 'trial']);
        assert.equal(j.frames, 2);
        assert.equal(j.remaining, 6 - judged.length);
        const frame = await call(`/api/judge/frame?trial=${j.trial}&k=1`, tokens.judge);
        assert.equal(frame.type, 'image/png');
        assert.equal(decodePng(frame.bytes).rgb[0], 10 * j.trial + 1, 'the frame of the trial the judge was shown');
        assert.equal((await call(`/api/judge/frame?trial=${j.trial}&k=2`, tokens.judge)).status, 400);
        assert.equal((await call(`/api/judge/frame?trial=${j.trial}&k=-1`, tokens.judge)).status, 400);
        assert.equal((await call('/api/judge/frame?trial=../../etc&k=0', tokens.judge)).status, 400);
        assert.equal((await call('/api/judge/score', tokens.judge, { trial: j.trial, points: 4 })).status, 400);
        const scored = await call('/api/judge/score', tokens.judge, { trial: j.trial, points: j.trial % 4 });
        assert.equal(scored.status, 200, scored.text);
        const again = await call('/api/judge/score', tokens.judge, { trial: j.trial, points: 0 });
        assert.equal(again.status, 400, 'a trial is judged exactly once');
        assert.match(again.text, /already recorded/);
        judged.push(j.trial);
      }
      assert.deepEqual([...judged].sort((a, b) => a - b), order);
      assert.notDeepEqual(judged, order, 'the judge sees the trials in a random order');
      const results = JSON.parse((await call('/api/admin/results', tokens.admin)).text);
      assert.equal(results.cells.reduce((s: number, c: { trials: number }) => s + c.trials, 0), 6);
      assert.equal(JSON.parse((await call('/api/admin/progress', tokens.admin)).text).state, 'done');
    } finally {
      await api.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leak test: crawling every operator and judge endpoint during a simulated judge-scored study finds no model, URL or alias', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-api-'));
    const oracle = new SimOracle();
    const models = await startSimModels(2, oracle);
    const store = new BlindStore(join(dir, 'study.db'));
    const tokens = store.create(simStudyDefinition({ urls: models.urls, tasks: ['water-plant'], trials: 2, scoring: 'judge', seed: 2 }));
    const api = await startBlindApi(store);
    const dispatcher = await startDispatcher(store, { recordEvery: 10 });
    const call = caller(api.url);
    const seen: { path: string; text: string }[] = [];
    const crawl = async () => {
      const get = async (path: string, token: string, body?: unknown) => {
        const r = await call(path, token, body);
        seen.push({ path, text: r.type === 'image/png' ? Buffer.from(decodePng(r.bytes).rgb).toString('latin1') + r.text : r.text });
        return r;
      };
      for (const page of ['/', '/operator', '/judge']) assert.match((await get(page, '')).type, /text\/html/, page);
      const cur = JSON.parse((await get('/api/operator/current', tokens.operator)).text);
      for (const [, path] of ENDPOINTS.operator.filter(([m]) => m === 'POST')) {
        await get(path, tokens.operator, { trial: cur.trial ?? 0, points: 99 });
        await get(path, tokens.operator, { trial: 9999 });
      }
      const next = JSON.parse((await get('/api/judge/next', tokens.judge)).text);
      if (next.trial !== undefined) for (let k = 0; k <= next.frames; k++) await get(`/api/judge/frame?trial=${next.trial}&k=${k}`, tokens.judge);
      await get('/api/judge/frame?trial=1&k=0', tokens.judge);
      await get('/api/judge/score', tokens.judge, { trial: next.trial ?? 1, points: 99 });
      await get('/api/judge/score', tokens.judge, { trial: 9999, points: 0 });
      return next;
    };
    let judgedWhileRunning = 0;
    try {
      await checkRoles(call, tokens);
      const outcomes = await driveStudy({
        api: api.url, robot: dispatcher.url, tokens, oracle, seed: 2,
        onTrial: async () => { if ((await crawl()).trial !== undefined) judgedWhileRunning++; },
      });
      await crawl();
      assert.ok(judgedWhileRunning >= 2, 'the crawl saw trials awaiting judgement mid-study');
      assert.ok(seen.some((s) => s.path.startsWith('/api/judge/frame?')), 'the crawl fetched trial records');
      assert.ok(seen.some((s) => s.path === '/operator'), 'the crawl fetched the pages');
      const secrets = [...Object.keys(models.urls), ...Object.values(models.urls), 'sim-lapse', '127.0.0.1', 'ws://'];
      assertNoLeak(seen, secrets, store.trials().map((t) => t.alias));
      const results = JSON.parse((await call('/api/admin/results', tokens.admin)).text);
      assert.deepEqual(results.cells.map((c: { trials: number }) => c.trials), [2, 2]);
      const byModel = new Map<string, number>();
      for (const t of store.trials()) byModel.set(t.model, (byModel.get(t.model) ?? 0) + outcomes.get(t.id)!);
      for (const c of results.cells) assert.equal(c.meanScore, byModel.get(c.model)! / 2 / 3, `${c.model}: the judge scored what the simulator reported`);
    } finally {
      await dispatcher.close();
      await api.close();
      await models.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
