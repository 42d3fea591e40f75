import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Rng } from '../../util/index.ts';
import { summarize } from './stats.ts';
import { BlindStore } from './store.ts';

const OPERATOR = join(import.meta.dirname, '..', '..', '..', 'test', 'helpers', 'blind-operator.ts');
const definition = {
  name: 'crash', models: { alpha: 'ws://a:1', beta: 'ws://b:2', gamma: 'ws://c:3', delta: 'ws://d:4', eps: 'ws://e:5' },
  tasks: [{ name: 'stack-bowls', instruction: 'stack the bowls', rubric: [{ name: 'a', points: 1 }, { name: 'b', points: 1 }, { name: 'c', points: 1 }] },
    { name: 'pick-to-drawer', instruction: 'put the cube in the drawer', rubric: [{ name: 'open', points: 2 }, { name: 'place', points: 3 }] }],
  groupSize: 2, trialsPerModel: 6, seed: 5,
};

describe('blind study store', () => {
  it('records each trial once, refuses out-of-order or repeated records, and gives tokens per role', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-blind-'));
    try {
      const s = new BlindStore(join(dir, 'study.db'));
      const tokens = s.create(definition);
      assert.equal(s.roleOf(tokens.operator), 'operator');
      assert.equal(s.roleOf('nope'), undefined);
      assert.throws(() => s.create(definition), /already holds a study/);
      const t = s.current()!;
      assert.throws(() => s.record(t.id, 1), /has not been started/);
      assert.throws(() => s.start(t.id + 1), /is not the next trial/);
      s.start(t.id);
      assert.throws(() => s.record(t.id, 99), /points must be an integer/);
      s.record(t.id, 1);
      assert.throws(() => s.record(t.id, 0), /already recorded/);
      assert.deepEqual(s.progress(), { done: 1, total: 5 * 2 * 6 });
      s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('survives SIGKILL at random moments: exactly N trials per model and task, same results as an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-blind-'));
    try {
      const clean = join(dir, 'clean.db');
      new BlindStore(clean).create(definition);
      const r = spawnSync(process.execPath, [OPERATOR, clean], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);

      const crashed = join(dir, 'crashed.db');
      new BlindStore(crashed).create(definition);
      const rng = new Rng(9);
      let kills = 0;
      let midway = 0;
      for (let attempt = 0; attempt < 200; attempt++) {
        const child = spawn(process.execPath, [OPERATOR, crashed, '8'], { stdio: ['ignore', 'pipe', 'ignore'] }); // ~0.5 s of trials
        const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
        let timer: NodeJS.Timeout | undefined;
        child.stdout.once('data', () => { timer = setTimeout(() => child.kill('SIGKILL'), rng.int(400)); });
        const code = await exited;
        clearTimeout(timer);
        if (code === 0) break;
        kills++;
        const probe = new BlindStore(crashed);
        const { done, total } = probe.progress();
        probe.close();
        if (done > 0 && done < total) midway++;
      }
      assert.ok(midway >= 2, `only ${midway} of ${kills} kills landed mid-study; the test did not exercise crashes`);
      const a = new BlindStore(clean);
      const b = new BlindStore(crashed);
      assert.deepEqual(b.progress(), { done: 60, total: 60 });
      const per = new Map<string, number>();
      for (const o of b.outcomes()) per.set(`${o.model}/${o.task}`, (per.get(`${o.model}/${o.task}`) ?? 0) + 1);
      assert.deepEqual([...per.values()], Array(10).fill(6));
      assert.deepEqual(summarize(b.outcomes(), 1), summarize(a.outcomes(), 1));
      a.close();
      b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
