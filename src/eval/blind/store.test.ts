import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { DatabaseSync } from 'node:sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Rng } from '../../util/index.ts';
import { planStudy } from './protocol.ts';
import { summarize } from './stats.ts';
import { BlindStore } from './store.ts';
import { parseStudy } from './study.ts';

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
      assert.deepEqual(s.progress(), { done: 1, ended: 0, total: 5 * 2 * 6 });
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
      assert.deepEqual(b.progress(), { done: 60, ended: 0, total: 60 });
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

  it('judge scoring: the operator ends trials, the judge scores each once in a seeded random order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-blind-'));
    try {
      const s = new BlindStore(join(dir, 'study.db'));
      s.create({ ...definition, scoring: 'judge', trialsPerModel: 1 });
      assert.equal(s.judgeNext(), undefined);
      const ended: number[] = [];
      for (let t = s.current(); t; t = s.current()) {
        s.start(t.id);
        assert.throws(() => s.record(t!.id, 1), /scored by a judge: end the trial/);
        assert.throws(() => s.score(t!.id, 1), /has not ended yet/);
        s.end(t.id);
        assert.throws(() => s.end(t!.id), /has already ended/);
        ended.push(t.id);
      }
      assert.deepEqual(s.progress(), { done: 0, ended: 10, total: 10 });
      assert.notEqual(s.study().state, 'done');
      const judged: number[] = [];
      for (let t = s.judgeNext(); t; t = s.judgeNext()) {
        assert.throws(() => s.score(t!.id, t!.max_points + 1), /points must be an integer in \[0, \d\]/);
        s.score(t.id, 1);
        assert.throws(() => s.score(t!.id, 0), /already recorded/);
        judged.push(t.id);
      }
      assert.deepEqual([...judged].sort((a, b) => a - b), ended, 'every ended trial judged exactly once');
      assert.notDeepEqual(judged, ended, 'the judge order is shuffled, not the execution order');
      assert.deepEqual(s.progress(), { done: 10, ended: 0, total: 10 });
      assert.equal(s.study().state, 'done');
      s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start a trial while the admin has paused the study, and resumes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-blind-'));
    try {
      const s = new BlindStore(join(dir, 'study.db'));
      s.create(definition);
      assert.equal(s.study().state, 'created');
      const t = s.current()!;
      assert.throws(() => s.end(t.id), /scored by the operator/);
      s.pauseStudy();
      assert.throws(() => s.start(t.id), /the study is paused by the admin/);
      assert.equal(s.startStudy(), 'running');
      s.start(t.id);
      s.pauseStudy();
      s.record(t.id, 2); // the active trial may still be finished
      assert.throws(() => s.start(s.current()!.id), /paused/);
      s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('migrates a database of the first schema, keeping its trials and outcomes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-blind-'));
    try {
      const file = join(dir, 'old.db');
      const def = parseStudy({ ...definition, trialsPerModel: 1 });
      const plan = planStudy(def);
      const db = new DatabaseSync(file);
      db.exec(`CREATE TABLE study (id INTEGER PRIMARY KEY CHECK (id = 1), definition TEXT NOT NULL, plan TEXT NOT NULL, state TEXT NOT NULL);
        CREATE TABLE trials (id INTEGER PRIMARY KEY, block INTEGER NOT NULL, position INTEGER NOT NULL, alias TEXT NOT NULL, model TEXT NOT NULL,
          task TEXT NOT NULL, max_points INTEGER NOT NULL, status TEXT NOT NULL CHECK (status IN ('queued', 'active', 'done')),
          points INTEGER, started_at TEXT, ended_at TEXT, UNIQUE (block, position));
        CREATE TABLE tokens (role TEXT PRIMARY KEY, token TEXT NOT NULL UNIQUE);`);
      db.prepare('INSERT INTO study VALUES (1, ?, ?, ?)').run(JSON.stringify(def), JSON.stringify(plan), 'created');
      const ins = db.prepare('INSERT INTO trials (block, position, alias, model, task, max_points, status, points, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
      plan.blocks.forEach((b) => b.queue.forEach((a, i) => ins.run(b.index, i, a, b.aliases[a], b.task, 3, b.index === 0 && i === 0 ? 'done' : 'queued', b.index === 0 && i === 0 ? 2 : null, null)));
      db.prepare("INSERT INTO tokens VALUES ('operator', 'tok')").run();
      db.close();
      const s = new BlindStore(file);
      assert.deepEqual(s.progress(), { done: 1, ended: 0, total: 10 });
      assert.equal(s.roleOf('tok'), 'operator');
      assert.deepEqual(s.outcomes().map((o) => o.points), [2]);
      const t = s.current()!;
      s.start(t.id);
      s.record(t.id, 1);
      s.close();
      const again = new BlindStore(file);
      assert.deepEqual(again.progress(), { done: 2, ended: 0, total: 10 }, 'reopening a migrated database is a no-op');
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
