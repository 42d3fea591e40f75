import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BlindStore } from '../../src/eval/index.ts';
import { runCli } from '../helpers/cli.ts';

describe('vlalab blind', () => {
  it('creates a study, refuses to overwrite it, and reports recorded outcomes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-blind-cli-'));
    try {
      const study = join(dir, 'study.json');
      writeFileSync(study, JSON.stringify({
        name: 'cli', models: { a: 'ws://h:1', b: 'ws://h:2' }, trialsPerModel: 2, groupSize: 2,
        tasks: [{ name: 'wipe-board', instruction: 'wipe the board', rubric: [{ name: 'clean', points: 4 }] }],
      }));
      const db = join(dir, 'study.db');
      const r = runCli(['blind', 'create', '--study', study, '--db', db, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.trials, 4);
      assert.match(out.tokens.operator, /^[0-9a-f]{32}$/);
      assert.equal(runCli(['blind', 'create', '--study', study, '--db', db]).status, 1);
      const store = new BlindStore(db);
      for (let t = store.current(); t; t = store.current()) {
        store.start(t.id);
        store.record(t.id, t.model === 'a' ? 4 : 1);
      }
      store.close();
      const rep = JSON.parse(runCli(['blind', 'report', '--db', db, '--json']).stdout);
      assert.deepEqual(rep.progress, { done: 4, total: 4 });
      assert.deepEqual(rep.ranking.map((x: { model: string }) => x.model), ['a', 'b']);
      const bad = runCli(['blind', 'report', '--db', join(dir, 'missing.db')]);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /does not exist; create the study first/);
      writeFileSync(study, JSON.stringify({ name: 'x', models: {}, trialsPerModel: 1, tasks: [] }));
      const invalid = runCli(['blind', 'create', '--study', study, '--db', join(dir, 'other.db')]);
      assert.equal(invalid.status, 1);
      assert.match(invalid.stderr, /study.json: (models|tasks)/);
      assert.equal(existsSync(join(dir, 'other.db')), false, 'a failed create left a database behind');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
