/**
 * The dispatcher: the one robot-facing port of a blind study, speaking openpi's WebSocket protocol
 * (src/serving). On connect the robot gets the same metadata frame whatever model is behind the
 * trial; while a trial is active, each observation the robot sends is forwarded to the policy
 * server of that trial's model and only the action chunk comes back (no server timings, no extra
 * reply fields, no upstream error text), each answer delayed to at least a configured latency floor,
 * so nothing the robot or operator sees tells the models apart. With no active trial, or once the
 * trial a connection served has ended, the request gets openpi's error answer (a text frame, then
 * close 1011); the robot reconnects for the next trial.
 *
 * The judge's trial record: every `recordEvery`-th observation's camera images, tiled side by side,
 * are written as a PNG before the request is forwarded, so a trial's record is on disk before the
 * operator can end it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLOSE_INTERNAL_ERROR, isNdArray, MAX_IN_FLIGHT, type NdArray, packb, PolicyClient, ServerError, unpackb } from '../../serving/index.ts';
import { encodePng, tileRgb, UserError } from '../../util/index.ts';
import { frameCount, recordsDirOf, writeFrame } from './records.ts';
import type { BlindStore } from './store.ts';

/** The metadata frame every robot gets, whichever model runs: nothing model-specific. */
export const DISPATCHER_METADATA = Object.freeze({
  server: 'vlalab blind dispatcher',
  protocol: 'openpi',
  note: 'blind study: the policy behind each trial is withheld; send observations as to any openpi policy server',
});

/** Options of startDispatcher. */
export type DispatcherOptions = {
  /** robot-facing port (default 0: any free port) */
  port?: number;
  /** interface (default 127.0.0.1) */
  host?: string;
  /** every answer, actions or error, takes at least this long, ms (default 0) */
  latencyFloorMs?: number;
  /** where trial records go (default recordsDirOf(store.file)) */
  recordsDir?: string;
  /** record every k-th observation of a trial (default 5) */
  recordEvery?: number;
  /** at most this many frames per trial (default 300) */
  maxFrames?: number;
  /** how long to retry a refused connection to a model's policy server, ms (default 2000) */
  upstreamWaitMs?: number;
  /** one line per event, for the admin's console (may name models; never sent to the robot) */
  log?: (line: string) => void;
};

/** A running dispatcher. */
export type RunningDispatcher = { readonly url: string; readonly port: number; close(): Promise<void> };

/** Image keys of an observation in wire order (LIBERO image, wrist image, then the rest by name). */
function imagesOf(obs: Record<string, unknown>): NdArray[] {
  const rank = (k: string) => (k === 'observation/image' ? 0 : k === 'observation/wrist_image' ? 1 : 2);
  return Object.keys(obs)
    .filter((k) => k.startsWith('observation/') && isNdArray(obs[k]))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .map((k) => obs[k] as NdArray)
    .filter((a) => a.dtype === '|u1' && a.shape.length === 3 && a.shape[2] === 3);
}

/** The images of one observation as one PNG (side by side when they share a size, else the first). */
function framePng(images: NdArray[]): Uint8Array | undefined {
  if (images.length === 0) return undefined;
  const [h, w] = images[0].shape;
  const same = images.filter((a) => a.shape[0] === h && a.shape[1] === w).map((a) => a.data as Uint8Array);
  const sheet = tileRgb(same, w, h, same.length, 0);
  return encodePng(sheet.rgb, sheet.width, sheet.height);
}

/**
 * The reason of a policy server's "bad request" answer (what is wrong with the robot's observation:
 * which key, which shape), with every `secret` (the model's name, URL, host) cut out; undefined for
 * any other failure, whose text may say more about the model than the robot may know.
 */
export function badRequestReason(err: unknown, secrets: readonly string[]): string | undefined {
  if (!(err instanceof ServerError)) return undefined;
  const m = /^Error in inference server:\nbad request: ([\s\S]+)$/.exec(err.message);
  if (!m) return undefined;
  let reason = m[1].trim().slice(0, 500);
  for (const s of secrets) if (s) reason = reason.replaceAll(s, '(hidden)');
  return reason;
}

function refuse(req: IncomingMessage, res: ServerResponse): void {
  if ((req.url ?? '/').split('?')[0] === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('OK\n');
    return;
  }
  res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end('this is the robot port of a blind study (openpi WebSocket protocol); connect with a WebSocket client, or GET /healthz\n');
}

/** What a robot connection needs from its dispatcher. */
type Shared = {
  store: BlindStore; models: Record<string, string>; floorMs: number; upstreamWaitMs: number; metadataFrame: Uint8Array;
  record(trial: number, obs: Record<string, unknown>): void; log(line: string): void;
};

/** Serves one robot connection: bound to the trial active at its first request, forwarded to that trial's model. */
function serveRobot(ws: WebSocket, who: string, c: Shared): void {
  ws.send(c.metadataFrame);
  let trial: number | undefined; // the trial this connection serves, fixed by its first request
  let upstream: Promise<PolicyClient> | undefined;
  let chain: Promise<void> = Promise.resolve();
  let inFlight = 0;
  let failed = false;
  const closeUpstream = () => void upstream?.then((u) => u.close(), () => {});

  /** openpi's error path: one text frame with the reason, then close 1011. */
  const fail = (err: unknown): void => {
    if (failed) return;
    failed = true;
    closeUpstream();
    // upstream errors may name the model or its URL: the robot gets a generic line, the log the detail
    const message = err instanceof UserError ? `bad request: ${err.message}` : 'internal error: the policy server behind this trial failed; tell the study admin (the dispatcher log has the details)';
    c.log(`robot ${who}${trial === undefined ? '' : ` (trial ${trial})`}: ${err instanceof Error ? err.message : String(err)}`);
    if (ws.readyState === ws.OPEN) {
      ws.send(message);
      ws.close(CLOSE_INTERNAL_ERROR, err instanceof UserError ? 'Bad request. Reason in previous frame.' : 'Internal server error. Reason in previous frame.');
    }
  };

  const forward = async (data: Buffer, isBinary: boolean): Promise<Uint8Array> => {
    if (!isBinary) throw new UserError('requests must be binary frames holding msgpack (openpi msgpack_numpy.packb(obs)); got a text frame');
    const active = c.store.active();
    if (trial !== undefined && active?.id !== trial) throw new UserError(`trial ${trial} has ended; reconnect to run the next trial`);
    if (!active) throw new UserError('no trial is active; the operator must start the next trial, then the robot reconnects and sends its observation');
    trial = active.id;
    const obs = unpackb(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if (typeof obs !== 'object' || obs === null || Array.isArray(obs) || isNdArray(obs)) throw new UserError('the observation must be a dict (openpi observation)');
    c.record(active.id, obs as Record<string, unknown>);
    const url = c.models[active.model];
    try {
      if (!url) throw new Error('not in the study\'s model pool');
      upstream ??= PolicyClient.connect(url, { waitMs: c.upstreamWaitMs });
      const reply = await (await upstream).infer(obs as Record<string, unknown>);
      return packb({ actions: reply.actions });
    } catch (err) {
      // the robot may learn what is wrong with its observation, never which model (or URL) said so
      const reason = badRequestReason(err, [active.model, url ?? '', url ? hostOf(url) : '']);
      if (reason) throw new UserError(`the policy server refused the observation: ${reason}`);
      // otherwise never a UserError: its text (URL, model's complaint) must not reach the robot
      throw new Error(`model ${active.model} at ${url}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const handle = async (data: Buffer, isBinary: boolean): Promise<void> => {
    if (failed || ws.readyState !== ws.OPEN) return;
    const t0 = performance.now();
    const floor = () => new Promise((r) => setTimeout(r, Math.max(0, t0 + c.floorMs - performance.now())));
    try {
      const reply = await forward(data, isBinary);
      await floor();
      if (ws.readyState === ws.OPEN) ws.send(reply);
    } catch (err) {
      await floor();
      fail(err);
    }
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (failed) return;
    if (++inFlight > MAX_IN_FLIGHT) {
      fail(new UserError(`more than ${MAX_IN_FLIGHT} requests in flight on one connection; send one observation and wait for its reply`));
      return;
    }
    chain = chain.then(() => handle(data, isBinary)).then(() => void inFlight--);
  });
  ws.on('error', (err) => c.log(`robot ${who}: ${err.message}`));
  ws.on('close', closeUpstream);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

/** Starts the dispatcher of `store`'s study; resolves once listening. */
export async function startDispatcher(store: BlindStore, options: DispatcherOptions = {}): Promise<RunningDispatcher> {
  const every = options.recordEvery ?? 5;
  const maxFrames = options.maxFrames ?? 300;
  const recordsDir = options.recordsDir ?? recordsDirOf(store.file);
  /** per trial: observations seen by this process, next frame index */
  const recording = new Map<number, { seen: number; next: number }>();
  const shared: Shared = {
    store,
    models: store.study().definition.models,
    floorMs: options.latencyFloorMs ?? 0,
    upstreamWaitMs: options.upstreamWaitMs ?? 2000,
    metadataFrame: packb({ ...DISPATCHER_METADATA }),
    log: options.log ?? (() => {}),
    record(trial, obs) {
      let r = recording.get(trial);
      if (!r) recording.set(trial, (r = { seen: 0, next: frameCount(recordsDir, trial) })); // a rerun after a restart appends
      if (r.seen++ % every !== 0 || r.next >= maxFrames) return;
      const png = framePng(imagesOf(obs));
      if (png) writeFrame(recordsDir, trial, r.next++, png);
    },
  };
  const http = createServer(refuse);
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 128 * 2 ** 20 });
  wss.on('error', () => {}); // ws re-emits the http server's errors; listen() below reports them
  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => serveRobot(ws, `${req.socket.remoteAddress}:${req.socket.remotePort}`, shared));

  await new Promise<void>((resolve, reject) => {
    http.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new UserError(`robot port ${options.port} is in use; pick another with --robot-port`) : err));
    http.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const port = (http.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    close: () => new Promise<void>((resolve) => {
      for (const ws of wss.clients) ws.close(1001, 'server shutting down');
      wss.close(() => http.close(() => resolve()));
      http.closeAllConnections();
    }),
  };
}
