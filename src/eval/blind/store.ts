/**
 * Crash-safe persistence of a blind study in SQLite (node:sqlite, WAL, synchronous=FULL): the
 * definition, the plan's trials in execution order, their status (queued -> active -> done) and
 * outcomes, and the role tokens. Every state change is one transaction whose guard makes it
 * idempotent-safe: a trial is recorded once or the call fails, so a killed and restarted service
 * neither loses a recorded outcome nor counts a trial twice, and resumes at the first trial not
 * done (an active trial stays active across a restart).
 */
import { randomBytes } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { UserError } from '../../util/index.ts';
import { planStudy, type StudyPlan } from './protocol.ts';
import type { TrialOutcome } from './stats.ts';
import { maxPoints, parseStudy, type StudyDefinition } from './study.ts';

/** Roles of the service; each has its own token. */
export type Role = 'admin' | 'operator' | 'judge';

/** A trial as the service sees it (model is admin-only information). */
export type TrialRow = { id: number; block: number; position: number; alias: string; model: string; task: string; status: 'queued' | 'active' | 'done'; points: number | null };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS study (id INTEGER PRIMARY KEY CHECK (id = 1), definition TEXT NOT NULL, plan TEXT NOT NULL, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
  id INTEGER PRIMARY KEY, block INTEGER NOT NULL, position INTEGER NOT NULL, alias TEXT NOT NULL, model TEXT NOT NULL,
  task TEXT NOT NULL, max_points INTEGER NOT NULL, status TEXT NOT NULL CHECK (status IN ('queued', 'active', 'done')),
  points INTEGER, started_at TEXT, ended_at TEXT, UNIQUE (block, position));
CREATE TABLE IF NOT EXISTS tokens (role TEXT PRIMARY KEY, token TEXT NOT NULL UNIQUE);
`;

/** The study database. */
export class BlindStore {
  private readonly db: DatabaseSync;

  constructor(file: string) {
    try {
      this.db = new DatabaseSync(file);
    } catch (err) {
      throw new UserError(`cannot open the study database ${file}: ${(err as Error).message}`);
    }
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
    this.db.exec(SCHEMA);
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

  /** The study definition and plan. */
  study(): { definition: StudyDefinition; plan: StudyPlan; state: string } {
    const row = this.db.prepare('SELECT definition, plan, state FROM study').get() as { definition: string; plan: string; state: string } | undefined;
    if (!row) throw new UserError('the database holds no study yet; create one first');
    return { definition: JSON.parse(row.definition), plan: JSON.parse(row.plan), state: row.state };
  }

  /** The role a token belongs to, if any. */
  roleOf(token: string): Role | undefined {
    const r = this.db.prepare('SELECT role FROM tokens WHERE token = ?').get(token) as { role: Role } | undefined;
    return r?.role;
  }

  /** The trial to run now: the active one, else the first queued; undefined when the study is done. */
  current(): TrialRow | undefined {
    return (this.db.prepare("SELECT * FROM trials WHERE status = 'active' LIMIT 1").get() ??
      this.db.prepare("SELECT * FROM trials WHERE status = 'queued' ORDER BY block, position LIMIT 1").get()) as TrialRow | undefined;
  }

  /** Starts trial `id`; it must be the current queued trial (or already active: then a no-op). */
  start(id: number): TrialRow {
    return this.tx(() => {
      const cur = this.current();
      if (!cur) throw new UserError('the study is complete; there is no trial to start');
      if (cur.id !== id) throw new UserError(`trial ${id} is not the next trial (the next is ${cur.id})`);
      if (cur.status === 'queued') this.db.prepare("UPDATE trials SET status = 'active', started_at = datetime('now') WHERE id = ? AND status = 'queued'").run(id);
      return this.db.prepare('SELECT * FROM trials WHERE id = ?').get(id) as TrialRow;
    });
  }

  /** Records the outcome of active trial `id` (0..max points); a trial is recorded exactly once. */
  record(id: number, points: number): TrialRow {
    return this.tx(() => {
      const t = this.db.prepare('SELECT * FROM trials WHERE id = ?').get(id) as (TrialRow & { max_points: number }) | undefined;
      if (!t) throw new UserError(`no trial ${id}`);
      if (t.status === 'done') throw new UserError(`trial ${id} is already recorded (${t.points} points); outcomes are never overwritten`);
      if (t.status !== 'active') throw new UserError(`trial ${id} has not been started`);
      if (!Number.isInteger(points) || points < 0 || points > t.max_points) throw new UserError(`points must be an integer in [0, ${t.max_points}], got ${points}`);
      this.db.prepare("UPDATE trials SET status = 'done', points = ?, ended_at = datetime('now') WHERE id = ? AND status = 'active'").run(points, id);
      if (!this.current()) this.db.prepare("UPDATE study SET state = 'done'").run();
      return this.db.prepare('SELECT * FROM trials WHERE id = ?').get(id) as TrialRow;
    });
  }

  /** Recorded outcomes (de-anonymized: admin only). */
  outcomes(): TrialOutcome[] {
    return (this.db.prepare("SELECT model, task, points, max_points FROM trials WHERE status = 'done' ORDER BY id").all() as { model: string; task: string; points: number; max_points: number }[])
      .map((r) => ({ model: r.model, task: r.task, points: r.points, maxPoints: r.max_points }));
  }

  /** Trials done and in total. */
  progress(): { done: number; total: number } {
    const r = this.db.prepare("SELECT SUM(status = 'done') AS done, COUNT(*) AS total FROM trials").get() as { done: number | null; total: number };
    return { done: r.done ?? 0, total: r.total };
  }

  close(): void {
    this.db.close();
  }
}
