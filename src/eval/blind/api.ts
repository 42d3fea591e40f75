/**
 * The blind study's HTTP API (node:http, JSON), with one bearer token per role; each role's
 * endpoints refuse the other roles' tokens:
 *
 *   GET  /api/operator/current          {task, instruction, rubric, trial, of, status, rest?}   (no model, alias map or URL)
 *   POST /api/operator/start  {trial}   starts the current trial
 *   POST /api/operator/record {trial, points}
 *   GET  /api/admin/progress            {done, total, state}
 *   GET  /api/admin/results             de-anonymized per model and task statistics
 *
 * Bad input gets a 4xx with a message; nothing a request sends can crash the server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UserError } from '../../util/index.ts';
import { summarize } from './stats.ts';
import type { BlindStore, Role } from './store.ts';

/** What the operator sees of the current trial: never a model name, alias map or server URL. */
export type OperatorView = {
  task: string; instruction: string; rubric: { name: string; points: number }[]; trial: number; of: number;
  status: 'queued' | 'active'; restBeforeSeconds: number;
} | { done: true };

/** The operator's view of the study now. */
export function operatorView(store: BlindStore): OperatorView {
  const cur = store.current();
  if (!cur) return { done: true };
  const { definition, plan } = store.study();
  const task = definition.tasks.find((t) => t.name === cur.task)!;
  const { total } = store.progress();
  // a rest is due when this is the first trial of a block that follows another block
  const firstOfBlock = cur.position === 0 && cur.status === 'queued' && cur.block > 0 && plan.blocks[cur.block - 1].restAfter;
  return { task: task.name, instruction: task.instruction, rubric: task.rubric, trial: cur.id, of: total, status: cur.status === 'active' ? 'active' : 'queued', restBeforeSeconds: firstOfBlock ? definition.restSeconds : 0 };
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

const ROUTES: Record<string, { role: Role; method: string }> = {
  '/api/operator/current': { role: 'operator', method: 'GET' },
  '/api/operator/start': { role: 'operator', method: 'POST' },
  '/api/operator/record': { role: 'operator', method: 'POST' },
  '/api/admin/progress': { role: 'admin', method: 'GET' },
  '/api/admin/results': { role: 'admin', method: 'GET' },
};

/** Starts the API on `port` (0: any free port) at 127.0.0.1. */
export async function startBlindApi(store: BlindStore, port = 0): Promise<{ url: string; close(): Promise<void>; server: Server }> {
  const send = (res: ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(value));
  };
  const server = createServer(async (req, res) => {
    try {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const route = ROUTES[path];
      if (!route) return send(res, 404, { error: `no endpoint ${path}` });
      if (req.method !== route.method) return send(res, 405, { error: `${path} takes ${route.method}` });
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      const role = token ? store.roleOf(token) : undefined;
      if (!role) return send(res, 401, { error: 'missing or unknown token (Authorization: Bearer TOKEN)' });
      if (role !== route.role) return send(res, 403, { error: `this endpoint is for the ${route.role}` });
      if (path === '/api/operator/current') return send(res, 200, operatorView(store));
      if (path === '/api/operator/start') {
        const b = await body(req);
        store.start(Number(b.trial));
        return send(res, 200, operatorView(store));
      }
      if (path === '/api/operator/record') {
        const b = await body(req);
        store.record(Number(b.trial), Number(b.points));
        return send(res, 200, operatorView(store));
      }
      if (path === '/api/admin/progress') return send(res, 200, { ...store.progress(), state: store.study().state });
      return send(res, 200, summarize(store.outcomes(), store.study().definition.seed));
    } catch (err) {
      if (err instanceof UserError) return send(res, 400, { error: err.message });
      return send(res, 500, { error: 'internal error' });
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const addr = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
