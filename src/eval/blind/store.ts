/**
 * Crash-safe persistence of a blind study in SQLite (node:sqlite, WAL, synchronous=FULL): the
 * definition, the plan's trials in execution order, their status and outcomes, the study state and
 * the role tokens. A trial goes queued -> active -> done when the operator scores it, or
 * queued -> active -> ended -> done when a judge scores it from the trial record. Every state
 * change is one transaction whose guard makes it idempotent-safe: a trial is scored once or the
 * call fails, so a killed and restarted service neither loses an outcome nor counts a trial twice,
 * and resumes at the first trial not run (an active trial stays active across a restart).
 *
 * The study state is created -> running <-> paused -> done; the admin starts and pauses it, the
 * operator's first start also makes a created study running, and no trial starts while paused.
 */
import { randomBytes } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { Rng, UserError } from '../../util/index.ts';
import { planStudy, type StudyPlan } from './protocol.ts';
import type { TrialOutcome } from './stats.ts';
import { maxPoints, parseStudy, type StudyDefinition } from './study.ts';

/** Roles of the service; each has its own token. */
export type Role = 'admin' | 'operator' | 'judge';

/** Where a trial is: queued, active (the robot runs it), ended (awaiting a judge), done (scored). */
export type TrialStatus = 'queued' | 'active' | 'ended' | 'done';

/** Where the study is. */
export type StudyState = 'created' | 'running' | 'paused' | 'done';

/** A trial as the service sees it (alias and model are admin-only information). */
export type TrialRow = {
  id: number; block: number; position: number; alias: string; model: string; task: string; max_points: number;
  status: TrialStatus; points: number | null; started_at: string | null; ended_at: string | null; scored_at: string | null;
};

/** Schema version in PRAGMA user_version; 0 is the first release (no 'ended' status, no scored_at). */
const SCHEMA_VERSION = 1;

const TRIALS = `CREATE TABLE trials (
  id INTEGER PRIMARY KEY, block INTEGER NOT NULL, position INTEGER NOT NULL, alias TEXT NOT NULL, model TEXT NOT NULL,
  task TEXT NOT NULL, max_points INTEGER NOT NULL, status TEXT NOT NULL CHECK (status IN ('queued', 'active', 'ended', 'done')),
  points INTEGER, started_at TEXT, ended_at TEXT, scored_at TEXT, UNIQUE (block, position))`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS study (id INTEGER PRIMARY KEY CHECK (id = 1), definition TEXT NOT NULL, plan TEXT NOT NULL, state TEXT NOT NULL);
${TRIALS.replace('CREATE TABLE', 'CREATE TABLE IF NOT EXISTS')};
CREATE TABLE IF NOT EXISTS tokens (role TEXT PRIMARY KEY, token TEXT NOT NULL UNIQUE);
`;

/** The study database. */
export class BlindStore {
  /** the database file */
  readonly file: string;
  private readonly db: DatabaseSync;
  /** the definition and plan, fixed once created (parsed once) */
  private fixed: { definition: StudyDefinition; plan: StudyPlan } | undefined;

  constructor(file: string) {
    this.file = file;
    try {
      this.db = new DatabaseSync(file);
    } catch (err) {
      throw new UserError(`cannot open the study database ${file}: ${(err as Error).message}`);
    }
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
    this.migrate();
  }

  /** Brings a database of an older schema up to SCHEMA_VERSION (one transaction; rows kept). */
  private migrate(): void {
    const version = (this.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (version > SCHEMA_VERSION) throw new UserError(`${this.file} was written by a newer vlalab (schema ${version}, this one knows ${SCHEMA_VERSION}); upgrade vlalab`);
    if (version === SCHEMA_VERSION) return;
    this.tx(() => {
      const old = this.db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'trials'").get() as { sql: string } | undefined;
      if (old && !old.sql.includes("'ended'")) {
        // SQLite cannot change a CHECK constraint in place: rebuild the table with the same rows
        this.db.exec(`ALTER TABLE trials RENAME TO trials_v0; ${TRIALS};
          INSERT INTO trials (id, block, position, alias, model, task, max_points, status, points, started_at, ended_at, scored_at)
            SELECT id, block, position, alias, model, task, max_points, status, points, started_at, ended_at, CASE WHEN status = 'done' THEN ended_at END FROM trials_v0;
          DROP TABLE trials_v0;`);
      }
      this.db.exec(SCHEMA);
      this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    });
  }

  private tx<T>(f: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const r = f();
      this.db.exec('COMMIT');
      return r;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  /** Creates the study (once): its plan's trials and fresh role tokens. Returns the tokens. */
  create(definition: unknown): Record<Role, string> {
    const def = parseStudy(definition);
    const plan = planStudy(def);
    return this.tx(() => {
      if (this.db.prepare('SELECT 1 FROM study').get()) throw new UserError('this database already holds a study; use another --db');
      this.db.prepare('INSERT INTO study (id, definition, plan, state) VALUES (1, ?, ?, ?)').run(JSON.stringify(def), JSON.stringify(plan), 'created');
      const insert = this.db.prepare('INSERT INTO trials (block, position, alias, model, task, max_points, status) VALUES (?, ?, ?, ?, ?, ?, ?)');
      for (const b of plan.blocks) {
        const task = def.tasks.find((t) => t.name === b.task)!;
        b.queue.forEach((alias, position) => insert.run(b.index, position, alias, b.aliases[alias], b.task, maxPoints(task), 'queued'));
      }
      const tokens = { admin: randomBytes(16).toString('hex'), operator: randomBytes(16).toString('hex'), judge: randomBytes(16).toString('hex') };
      const t = this.db.prepare('INSERT INTO tokens (role, token) VALUES (?, ?)');
      for (const [role, token] of Object.entries(tokens)) t.run(role, token);
      return tokens;
    });
  }

  /** The study definition, plan and state. */
  study(): { definition: StudyDefinition; plan: StudyPlan; state: StudyState } {
    if (this.fixed) return { ...this.fixed, state: (this.db.prepare('SELECT state FROM study').get() as { state: StudyState }).state };
    const row = this.db.prepare('SELECT definition, plan, state FROM study').get() as { definition: string; plan: string; state: StudyState } | undefined;
    if (!row) throw new UserError('the database holds no study yet; create one first');
    this.fixed = Object.freeze({ definition: parseStudy(JSON.parse(row.definition), this.file), plan: JSON.parse(row.plan) as StudyPlan });
    return { ...this.fixed, state: row.state };
  }

  /** The role a token belongs to, if any. */
  roleOf(token: string): Role | undefined {
    const r = this.db.prepare('SELECT role FROM tokens WHERE token = ?').get(token) as { role: Role } | undefined;
    return r?.role;
  }

  /** Trial `id`, if it exists. */
  trial(id: number): TrialRow | undefined {
    return this.db.prepare('SELECT * FROM trials WHERE id = ?').get(id) as TrialRow | undefined;
  }

  /** Every trial in execution order (de-anonymized: admin only). */
  trials(): TrialRow[] {
    return this.db.prepare('SELECT * FROM trials ORDER BY block, position').all() as TrialRow[];
  }

  /** The trial the robot runs now, if any. */
  active(): TrialRow | undefined {
    return this.db.prepare("SELECT * FROM trials WHERE status = 'active' LIMIT 1").get() as TrialRow | undefined;
  }

  /** The trial to run now: the active one, else the first queued; undefined when all have run. */
  current(): TrialRow | undefined {
    return this.active() ?? (this.db.prepare("SELECT * FROM trials WHERE status = 'queued' ORDER BY block, position LIMIT 1").get() as TrialRow | undefined);
  }

  /** Admin: starts (or resumes) the study. */
  startStudy(): StudyState {
    return this.tx(() => {
      const { state } = this.study();
      if (state === 'done') throw new UserError('the study is complete; there is nothing to start');
      this.setState('running');
      return 'running';
    });
  }

  /** Admin: pauses the study; an active trial may still be finished, no new one starts. */
  pauseStudy(): StudyState {
    return this.tx(() => {
      const { state } = this.study();
      if (state === 'done') throw new UserError('the study is complete; there is nothing to pause');
      this.setState('paused');
      return 'paused';
    });
  }

  private setState(state: StudyState): void {
    this.db.prepare('UPDATE study SET state = ?').run(state);
  }

  /** Starts trial `id`; it must be the current queued trial (or already active: then a no-op). */
  start(id: number): TrialRow {
    return this.tx(() => {
      const cur = this.current();
      if (!cur) throw new UserError('every trial has been run; there is no trial to start');
      if (cur.id !== id) throw new UserError(`trial ${id} is not the next trial (the next is ${cur.id})`);
      if (cur.status === 'queued') {
        const { state } = this.study();
        if (state === 'paused') throw new UserError('the study is paused by the admin; wait until they resume it, then start the trial');
        if (state === 'created') this.setState('running');
        this.db.prepare("UPDATE trials SET status = 'active', started_at = datetime('now') WHERE id = ? AND status = 'queued'").run(id);
      }
      return this.trial(id)!;
    });
  }

  /** The trial `id` for scoring, checked against the scoring mode, its status and the points range. */
  private scorable(id: number, points: number | undefined, by: 'operator' | 'judge', status: TrialStatus): TrialRow {
    const t = this.trial(id);
    if (!t) throw new UserError(`no trial ${id}`);
    const scoring = this.study().definition.scoring;
    if (scoring !== by) {
      throw new UserError(scoring === 'judge' ? 'this study is scored by a judge: end the trial (POST /api/operator/end) instead of recording points' : 'this study is scored by the operator: record the outcome (POST /api/operator/record)');
    }
    if (t.status === 'done') throw new UserError(`trial ${id} is already recorded (${t.points} points); outcomes are never overwritten`);
    if (t.status !== status) throw new UserError(status === 'active' ? (t.status === 'ended' ? `trial ${id} has already ended` : `trial ${id} has not been started`) : `trial ${id} has not ended yet`);
    if (points !== undefined && (!Number.isInteger(points) || points < 0 || points > t.max_points)) throw new UserError(`points must be an integer in [0, ${t.max_points}], got ${points}`);
    return t;
  }

  private finish(id: number, points: number, from: TrialStatus): TrialRow {
    const ended = from === 'active' ? ", ended_at = datetime('now')" : '';
    this.db.prepare(`UPDATE trials SET status = 'done', points = ?, scored_at = datetime('now')${ended} WHERE id = ? AND status = ?`).run(points, id, from);
    if (!this.db.prepare("SELECT 1 FROM trials WHERE status != 'done' LIMIT 1").get()) this.setState('done');
    return this.trial(id)!;
  }

  /** Operator scoring: records the outcome of active trial `id` (0..max points), exactly once. */
  record(id: number, points: number): TrialRow {
    return this.tx(() => {
      this.scorable(id, points, 'operator', 'active');
      return this.finish(id, points, 'active');
    });
  }

  /** Judge scoring: the operator ends active trial `id`; it then waits for the judge. */
  end(id: number): TrialRow {
    return this.tx(() => {
      this.scorable(id, undefined, 'judge', 'active');
      this.db.prepare("UPDATE trials SET status = 'ended', ended_at = datetime('now') WHERE id = ? AND status = 'active'").run(id);
      return this.trial(id)!;
    });
  }

  /** The next trial for the judge: ended trials in a random order fixed by the study's seed. */
  judgeNext(): TrialRow | undefined {
    const ended = new Set((this.db.prepare("SELECT id FROM trials WHERE status = 'ended'").all() as { id: number }[]).map((r) => r.id));
    if (ended.size === 0) return undefined;
    const ids = (this.db.prepare('SELECT id FROM trials ORDER BY id').all() as { id: number }[]).map((r) => r.id);
    // a permutation of all trials, not of the ended ones, so the order never changes as trials end
    const order = new Rng(this.study().definition.seed + 0x6a756467).shuffle(ids);
    return this.trial(order.find((id) => ended.has(id))!);
  }

  /** Judge scoring: scores ended trial `id` (0..max points), exactly once. */
  score(id: number, points: number): TrialRow {
    return this.tx(() => {
      this.scorable(id, points, 'judge', 'ended');
      return this.finish(id, points, 'ended');
    });
  }

  /** Scored outcomes (de-anonymized: admin only). */
  outcomes(): TrialOutcome[] {
    return (this.db.prepare("SELECT model, task, points, max_points FROM trials WHERE status = 'done' ORDER BY id").all() as { model: string; task: string; points: number; max_points: number }[])
      .map((r) => ({ model: r.model, task: r.task, points: r.points, maxPoints: r.max_points }));
  }

  /** Trials scored, ended awaiting a judge, and in total. */
  progress(): { done: number; ended: number; total: number } {
    const r = this.db.prepare("SELECT SUM(status = 'done') AS done, SUM(status = 'ended') AS ended, COUNT(*) AS total FROM trials").get() as { done: number | null; ended: number | null; total: number };
    return { done: r.done ?? 0, ended: r.ended ?? 0, total: r.total };
  }

  close(): void {
    this.db.close();
  }
}
