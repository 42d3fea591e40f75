import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startBlindApi } from './api.ts';
import { BlindStore } from './store.ts';

const MODELS = { 'secret-model-one': 'ws://10.0.0.1:8001', 'secret-model-two': 'ws://10.0.0.2:8002', 'secret-model-three': 'ws://10.0.0.3:8003' };
const definition = {
  name: 'api', models: MODELS, groupSize: 2, trialsPerModel: 2, restSeconds: 60, seed: 3,
  tasks: [{ name: 'stack-bowls', instruction: 'stack the bowls', rubric: [{ name: 'pick', points: 1 }, { name: 'stack', points: 2 }] }],
};

describe('blind study HTTP API', () => {
  it('runs a study through the operator API without revealing any model, and gives the admin the results', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-api-'));
    const store = new BlindStore(join(dir, 'study.db'));
    const tokens = store.create(definition);
    const api = await startBlindApi(store);
    const call = async (path: string, token: string | undefined, body?: unknown) => {
      const r = await fetch(api.url + path, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: r.status, text: await r.text() };
    };
    const secrets = [...Object.keys(MODELS), ...Object.values(MODELS), '10.0.0.', 'secret', 'alias'];
    const seen: string[] = [];
    try {
      assert.equal((await call('/api/admin/results', undefined)).status, 401);
      assert.equal((await call('/api/admin/results', tokens.operator)).status, 403);
      assert.equal((await call('/api/admin/progress', tokens.judge)).status, 403);
      assert.equal((await call('/api/operator/current', tokens.admin)).status, 403);
      assert.equal((await call('/api/nope', tokens.admin)).status, 404);
      let rests = 0;
      for (let n = 0; n < 100; n++) {
        const cur = await call('/api/operator/current', tokens.operator);
        seen.push(cur.text);
        const v = JSON.parse(cur.text);
        if (v.done) break;
        if (v.restBeforeSeconds > 0) rests++;
        const bad = await call('/api/operator/record', tokens.operator, '{not json');
        assert.equal(bad.status, 400);
        seen.push(bad.text);
        const started = await call('/api/operator/start', tokens.operator, { trial: v.trial });
        assert.equal(started.status, 200, started.text);
        seen.push(started.text);
        const tooMany = await call('/api/operator/record', tokens.operator, { trial: v.trial, points: 9 });
        assert.equal(tooMany.status, 400);
        assert.match(tooMany.text, /points must be an integer in \[0, 3\]/);
        const rec = await call('/api/operator/record', tokens.operator, { trial: v.trial, points: v.trial % 4 });
        assert.equal(rec.status, 200, rec.text);
        seen.push(rec.text);
        assert.equal((await call('/api/operator/record', tokens.operator, { trial: v.trial, points: 1 })).status, 400); // never twice
      }
      assert.equal(rests, 1, 'two groups: one rest between them');
      for (const text of seen) for (const s of secrets) assert.ok(!text.includes(s), `operator response leaks "${s}": ${text}`);
      const progress = JSON.parse((await call('/api/admin/progress', tokens.admin)).text);
      assert.deepEqual(progress, { done: 6, total: 6, state: 'done' });
      const results = JSON.parse((await call('/api/admin/results', tokens.admin)).text);
      assert.deepEqual(results.cells.map((c: { model: string }) => c.model).sort(), Object.keys(MODELS).sort());
      assert.ok(results.cells.every((c: { trials: number }) => c.trials === 2));
    } finally {
      await api.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
