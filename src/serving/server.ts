/**
 * The policy server, speaking openpi's WebSocket protocol (openpi `WebsocketPolicyServer`):
 * any path; `GET /healthz` -> 200 "OK\n"; on connect one binary frame msgpack(metadata); then per
 * binary request frame msgpack(observation) one reply msgpack({"actions": f4[H, D], ...,
 * "server_timing": {"infer_ms", "prev_total_ms"}}). A bad request gets a text frame saying what
 * is wrong and a close with 1011; other connections are unaffected.
 *
 * Concurrency: each connection handles its frames in order, and all inferences go through one
 * FIFO queue (one model, one device), so a reply always answers its own connection's request.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { UserError } from '../util/index.ts';
import { type DecodeLimits, f32, packb, unpackb } from './msgpack-numpy.ts';
import type { Policy, PolicyOutput } from './policy.ts';

/** openpi's default port. */
export const DEFAULT_PORT = 8000;
/** Loopback by default: serving on all interfaces must be asked for (--host 0.0.0.0). */
export const DEFAULT_HOST = '127.0.0.1';
/** WebSocket close code for "internal error" (RFC 6455), what openpi sends after an error frame. */
export const CLOSE_INTERNAL_ERROR = 1011;

/** Requests one connection may have waiting; openpi clients send one and wait for its reply. */
export const MAX_IN_FLIGHT = 4;

/** Server options. */
export type ServerOptions = {
  /** port (default 8000; 0 picks a free one) */
  port?: number;
  /** interface (default 127.0.0.1) */
  host?: string;
  /** caps while decoding requests */
  limits?: Partial<DecodeLimits>;
  /** largest request frame, bytes (default 128 MiB; larger frames are closed with 1009 by ws) */
  maxPayload?: number;
  /** one line per connection event (default: silent) */
  log?: (line: string) => void;
};

/** A running server. */
export type RunningServer = {
  /** ws://host:port */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** requests answered with actions so far */
  readonly served: () => number;
  /** stops accepting, closes every connection (1001) and resolves when all is down */
  close(): Promise<void>;
};

/** A FIFO of async jobs, one at a time. */
function serialQueue(): <T>(job: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(job: () => Promise<T>) => {
    const run = tail.then(job, job);
    tail = run.catch(() => undefined);
    return run;
  };
}

function checkOutput(out: PolicyOutput, h: number, d: number): void {
  const [oh, od] = out.shape;
  if (oh !== h || od !== d || out.actions.length !== h * d) {
    throw new Error(`policy returned actions of shape [${out.shape}] (${out.actions.length} values); its metadata promises [${h}, ${d}]`);
  }
}

function healthz(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('OK\n');
    return;
  }
  res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end('this is a WebSocket policy server (openpi protocol); connect with a WebSocket client, or GET /healthz\n');
}

/** Starts serving `policy`; resolves once listening. */
export async function startServer(policy: Policy, options: ServerOptions = {}): Promise<RunningServer> {
  const host = options.host ?? DEFAULT_HOST;
  const log = options.log ?? (() => {});
  const http = createServer(healthz);
  // compression off, as openpi's server and client both run with compression=None
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: options.maxPayload ?? 128 * 2 ** 20 });
  wss.on('error', () => {}); // ws re-emits the http server's errors; listen() below reports them
  const metadataFrame = packb(policy.metadata);
  const { action_horizon: h, action_dim: d } = policy.metadata;
  const inferQueue = serialQueue();
  let served = 0;

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const who = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    log(`connection from ${who} opened`);
    ws.send(metadataFrame);
    let prevTotalMs: number | undefined;
    let chain: Promise<void> = Promise.resolve();
    let failed = false;
    let inFlight = 0;

    /** openpi's error path: one text frame with the reason, then close 1011; later frames are dropped. */
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      const message = err instanceof UserError ? `bad request: ${err.message}` : `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
      log(`connection from ${who}: ${message.split('\n')[0]}`);
      if (ws.readyState === ws.OPEN) {
        ws.send(message);
        ws.close(CLOSE_INTERNAL_ERROR, err instanceof UserError ? 'Bad request. Reason in previous frame.' : 'Internal server error. Traceback included in previous frame.');
      }
    };

    const handle = async (data: Buffer, isBinary: boolean): Promise<void> => {
      if (failed || ws.readyState !== ws.OPEN) return;
      const start = performance.now();
      try {
        if (!isBinary) throw new UserError('requests must be binary frames holding msgpack (openpi msgpack_numpy.packb(obs)); got a text frame');
        const obs = unpackb(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), options.limits);
        const { out, inferMs } = await inferQueue(async () => {
          const t0 = performance.now();
          const out = await policy.infer(obs);
          return { out, inferMs: performance.now() - t0 };
        });
        checkOutput(out, h, d);
        const timing: Record<string, number> = { infer_ms: inferMs };
        if (prevTotalMs !== undefined) timing.prev_total_ms = prevTotalMs;
        const reply = packb({ ...out.extra, actions: f32([h, d], out.actions), server_timing: timing });
        await new Promise<void>((resolve, reject) => ws.send(reply, (err) => (err ? reject(err) : resolve())));
        served++;
        prevTotalMs = performance.now() - start;
      } catch (err) {
        fail(err);
      }
    };
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (failed) return;
      // bounded memory: a client may not pile up frames faster than they are answered
      if (++inFlight > MAX_IN_FLIGHT) {
        fail(new UserError(`more than ${MAX_IN_FLIGHT} requests in flight on one connection; send one observation and wait for its reply (or open more connections)`));
        return;
      }
      chain = chain.then(() => handle(data, isBinary)).then(() => void inFlight--);
    });
    ws.on('error', (err) => log(`connection from ${who}: ${err.message}`));
    ws.on('close', (code) => log(`connection from ${who} closed (${code})`));
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new UserError(`port ${options.port ?? DEFAULT_PORT} on ${host} is in use; pick another with --port`) : err),
    );
    http.listen(options.port ?? DEFAULT_PORT, host, resolve);
  });
  const port = (http.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `ws://${urlHost}:${port}`,
    host,
    port,
    served: () => served,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.close(1001, 'server shutting down');
        wss.close(() => http.close(() => resolve()));
        http.closeAllConnections();
      }),
  };
}
