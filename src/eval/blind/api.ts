/**
 * The blind study's HTTP API (node:http, JSON), with one bearer token per role; each role's
 * endpoints refuse the other roles' tokens (401 without a known token, 403 with another role's).
 * Operator and judge answers never hold a model name, alias map, model id or server URL: the judge
 * sees a trial id, never the alias.
 *
 * Operator:
 *   GET  /api/operator/current          {task, instruction, rubric, trial, of, status, restBeforeSeconds, scoring, paused} or {done: true}
 *   POST /api/operator/start  {trial}   starts the current trial (refused while the study is paused)
 *   POST /api/operator/record {trial, points}   scores the active trial (scoring 'operator')
 *   POST /api/operator/end    {trial}   ends the active trial for the judge (scoring 'judge')
 * Judge (scoring 'judge'):
 *   GET  /api/judge/next                {trial, task, instruction, rubric, frames, remaining}: the next ended
 *                                       trial in a seeded random order; {waiting: true, done: false} while none
 *                                       has ended yet; {done: true} once every trial is scored
 *   GET  /api/judge/frame?trial=ID&k=K  image/png: frame K (0..frames-1) of the trial's record
 *   POST /api/judge/score {trial, points}   scores an ended trial, exactly once
 * Admin:
 *   GET  /api/admin/progress            {done, ended, total, state}
 *   POST /api/admin/start               {state: 'running'}: starts or resumes the study
 *   POST /api/admin/pause               {state: 'paused'}: no trial starts until resumed
 *   GET  /api/admin/results             de-anonymized per model and task statistics, pairwise tests, ranking
 *   GET  /api/admin/export.json         definition, state, progress, every trial with its model, statistics
 *   GET  /api/admin/export.csv          one row per trial with its model (?table=summary: one row per model and task)
 *   GET  /api/admin/chart.svg           mean score per model and task with bootstrap 95% intervals
 *
 * Pages (no token needed to load them; they ask for one and call the endpoints above): GET /,
 * /operator, /judge, /admin (src/eval/blind/ui.ts), and their scripts GET /web/NAME.ts
 * (src/eval/web/, served as JavaScript). Every JSON message is typed once, in wire.ts.
 *
 * Bad input gets a 4xx with a message; nothing a request sends can crash the server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { boundUrl, UserError } from '../../util/index.ts';
import { frameCount, readFrame, recordsDirOf } from './records.ts';
import { resultsChartSvg, studyExport, summaryRows, toCsv, trialExport } from './report.ts';
import { summarize } from './stats.ts';
import type { BlindStore, Role } from './store.ts';
import { UI_PAGES } from './ui.ts';
import { webScripts } from './web-assets.ts';
import type { ApiMethod, ApiPath, ApiReply, JudgeView, OperatorView } from './wire.ts';

export type { JudgeView, OperatorView } from './wire.ts';

/** The operator's view of the study now. */
export function operatorView(store: BlindStore): OperatorView {
  const cur = store.current();
  if (!cur) return { done: true };
  const { definition, plan, state } = store.study();
  const task = definition.tasks.find((t) => t.name === cur.task)!;
  const { total } = store.progress();
  // a rest is due when this is the first trial of a block that follows another block
  const firstOfBlock = cur.position === 0 && cur.status === 'queued' && cur.block > 0 && plan.blocks[cur.block - 1].restAfter;
  return {
    task: task.name, instruction: task.instruction, rubric: task.rubric, trial: cur.id, of: total, status: cur.status === 'active' ? 'active' : 'queued',
    restBeforeSeconds: firstOfBlock ? definition.restSeconds : 0, scoring: definition.scoring, paused: state === 'paused',
  };
}

/** The judge's view: the next trial awaiting judgement and how many frames its record has. */
export function judgeView(store: BlindStore, recordsDir: string): JudgeView {
  // an operator-scored study has nothing for a judge: say so instead of waiting forever
  if (store.study().definition.scoring === 'operator') return { done: true, scoredBy: 'operator' };
  const next = store.judgeNext();
  if (!next) {
    const { done, total } = store.progress();
    return done === total ? { done: true } : { waiting: true, done: false };
  }
  const task = store.study().definition.tasks.find((t) => t.name === next.task)!;
  return { trial: next.id, task: task.name, instruction: task.instruction, rubric: task.rubric, frames: frameCount(recordsDir, next.id), remaining: store.progress().ended };
}

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 65536) throw new UserError('request body too large');
  }
  try {
    const v = JSON.parse(text || '{}');
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v;
  } catch {
    throw new UserError('the body must be a JSON object');
  }
}

/** A non-negative integer field of a body or query, or a UserError naming it. */
function intField(v: unknown, name: string): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new UserError(`"${name}" must be a non-negative integer, got ${JSON.stringify(v) ?? 'nothing'}`);
  return n;
}

/** An answer: JSON (of type J), or bytes of a content type. */
type Reply<J = unknown> = { json: J } | { type: string; data: string | Uint8Array; filename?: string };
type Context = { store: BlindStore; recordsDir: string; req: IncomingMessage; query: URLSearchParams };
type Route<J = unknown, M extends 'GET' | 'POST' = 'GET' | 'POST'> = { role: Role; method: M; run(c: Context): Reply<J> | Promise<Reply<J>> };

/** The JSON routes answer what wire.ts says (the pages are typed by the same union); the rest answer bytes. */
type Routes = { [P in ApiPath]: Route<ApiReply<P>, ApiMethod<P>> } & Record<string, Route>;

const ROUTES: Routes = {
  '/api/operator/current': { role: 'operator', method: 'GET', run: ({ store }) => ({ json: operatorView(store) }) },
  '/api/operator/start': {
    role: 'operator', method: 'POST',
    run: async ({ store, req }) => { store.start(intField((await body(req)).trial, 'trial')); return { json: operatorView(store) }; },
  },
  '/api/operator/record': {
    role: 'operator', method: 'POST',
    run: async ({ store, req }) => {
      const b = await body(req);
      store.record(intField(b.trial, 'trial'), Number(b.points));
      return { json: operatorView(store) };
    },
  },
  '/api/operator/end': {
    role: 'operator', method: 'POST',
    run: async ({ store, req }) => { store.end(intField((await body(req)).trial, 'trial')); return { json: operatorView(store) }; },
  },
  '/api/judge/next': { role: 'judge', method: 'GET', run: ({ store, recordsDir }) => ({ json: judgeView(store, recordsDir) }) },
  '/api/judge/frame': {
    role: 'judge', method: 'GET',
    run: ({ store, recordsDir, query }) => {
      const id = intField(query.get('trial'), 'trial');
      const k = intField(query.get('k'), 'k');
      const t = store.trial(id);
      if (!t || (t.status !== 'ended' && t.status !== 'done')) throw new UserError(`trial ${id} has no record to judge (only ended trials have one)`);
      const png = readFrame(recordsDir, id, k);
      if (!png) throw new UserError(`trial ${id} has ${frameCount(recordsDir, id)} frames; k=${k} is out of range`);
      return { type: 'image/png', data: png };
    },
  },
  '/api/judge/score': {
    role: 'judge', method: 'POST',
    run: async ({ store, req, recordsDir }) => {
      const b = await body(req);
      store.score(intField(b.trial, 'trial'), Number(b.points));
      return { json: judgeView(store, recordsDir) };
    },
  },
  '/api/admin/progress': { role: 'admin', method: 'GET', run: ({ store }) => ({ json: { ...store.progress(), state: store.study().state } }) },
  '/api/admin/start': { role: 'admin', method: 'POST', run: ({ store }) => ({ json: { state: store.startStudy() } }) },
  '/api/admin/pause': { role: 'admin', method: 'POST', run: ({ store }) => ({ json: { state: store.pauseStudy() } }) },
  '/api/admin/results': { role: 'admin', method: 'GET', run: ({ store }) => ({ json: summarize(store.outcomes(), store.study().definition.seed) }) },
  '/api/admin/export.json': { role: 'admin', method: 'GET', run: ({ store }) => ({ json: studyExport(store) }) },
  '/api/admin/export.csv': {
    role: 'admin', method: 'GET',
    run: ({ store, query }) => {
      const table = query.get('table') ?? 'trials';
      if (table !== 'trials' && table !== 'summary') throw new UserError(`table must be "trials" or "summary", got "${table}"`);
      const rows = table === 'trials' ? trialExport(store) : summaryRows(summarize(store.outcomes(), store.study().definition.seed).cells);
      return { type: 'text/csv; charset=utf-8', data: toCsv(rows), filename: `${store.study().definition.name}-${table}.csv` };
    },
  },
  '/api/admin/chart.svg': {
    role: 'admin', method: 'GET',
    run: ({ store }) => ({ type: 'image/svg+xml', data: resultsChartSvg(summarize(store.outcomes(), store.study().definition.seed).cells) }),
  },
};

/** Options of startBlindApi. */
export type BlindApiOptions = {
  /** port (default 0: any free port) */
  port?: number;
  /** interface (default 127.0.0.1) */
  host?: string;
  /** where the dispatcher keeps trial records (default: recordsDirOf(store.file)) */
  recordsDir?: string;
};

/** Starts the API (`options` may be just the port). */
export async function startBlindApi(store: BlindStore, options: BlindApiOptions | number = {}): Promise<{ url: string; close(): Promise<void>; server: Server }> {
  const o = typeof options === 'number' ? { port: options } : options;
  const recordsDir = o.recordsDir ?? recordsDirOf(store.file);
  const send = (res: ServerResponse, status: number, reply: Reply) => {
    if ('json' in reply) {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(reply.json));
      return;
    }
    const headers: Record<string, string> = { 'content-type': reply.type, 'cache-control': 'no-store' };
    if (reply.filename) headers['content-disposition'] = `attachment; filename="${reply.filename.replace(/[^\w.-]/g, '_')}"`;
    res.writeHead(status, headers);
    res.end(reply.data);
  };
  const error = (res: ServerResponse, status: number, message: string) => send(res, status, { json: { error: message } });
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      const pageHtml = req.method === 'GET' ? UI_PAGES[url.pathname] : undefined;
      if (pageHtml) return send(res, 200, { type: 'text/html; charset=utf-8', data: pageHtml });
      const script = req.method === 'GET' ? webScripts().get(url.pathname) : undefined;
      if (script) return send(res, 200, { type: 'text/javascript; charset=utf-8', data: script });
      const route = ROUTES[url.pathname];
      if (!route) return error(res, 404, `no endpoint ${url.pathname}`);
      if (req.method !== route.method) return error(res, 405, `${url.pathname} takes ${route.method}`);
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      const role = token ? store.roleOf(token) : undefined;
      if (!role) return error(res, 401, 'missing or unknown token (Authorization: Bearer TOKEN)');
      if (role !== route.role) return error(res, 403, `this endpoint is for the ${route.role}`);
      return send(res, 200, await route.run({ store, recordsDir, req, query: url.searchParams }));
    } catch (err) {
      if (err instanceof UserError) return error(res, 400, err.message);
      return error(res, 500, 'internal error');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new UserError(`port ${o.port} is in use; pick another with --port`) : err));
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', resolve);
  });
  return {
    url: boundUrl('http', server.address() as AddressInfo),
    server,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
