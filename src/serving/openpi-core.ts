/**
 * The openpi WebSocket server core (openpi `WebsocketPolicyServer`), shared by `vlalab serve` and
 * the blind study's robot port: any path; `GET /healthz` -> 200 "OK\n"; an optional API key
 * (openpi clients send `Authorization: Api-Key <key>`) checked before the upgrade, so a client
 * without it gets HTTP 401 and never a frame; on connect one binary frame msgpack(metadata); then
 * per binary request frame msgpack(observation) one binary reply. A bad request gets a text frame
 * saying what is wrong and a close with 1011; other connections are unaffected.
 *
 * Concurrency: each connection handles its frames in order with at most MAX_IN_FLIGHT waiting, and
 * with `serial` every answer goes through one FIFO queue (one model, one device), so a reply always
 * answers its own connection's request. What a caller supplies is only `session`: how one
 * connection answers an observation.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { boundUrl, UserError } from '../util/index.ts';

export { API_KEY_ENV } from '../util/index.ts';
import { type DecodeLimits, packb, unpackb } from './msgpack-numpy.ts';

/** WebSocket close code for "internal error" (RFC 6455), what openpi sends after an error frame. */
export const CLOSE_INTERNAL_ERROR = 1011;

/** Requests one connection may have waiting; openpi clients send one and wait for its reply. */
export const MAX_IN_FLIGHT = 4;


/** How one connection answers: made per connection, so it may keep per-connection state. */
export type OpenpiSession = {
  /**
   * The reply (packed as msgpack by the core) to one decoded observation; `prevTotalMs` is the
   * previous request's time from receipt to reply sent. Throw a UserError for the client's mistakes.
   */
  answer(obs: unknown, timing: { prevTotalMs?: number }): Promise<Record<string, unknown>>;
  /** logs a failure of this connection (default: the core's log, first line of the message) */
  onError?(err: unknown): void;
  /** called once the connection has failed or closed */
  close?(): void;
};

/** Options of startOpenpiServer. */
export type OpenpiServerOptions = {
  /** sent once to every connection as its first frame */
  metadata: Record<string, unknown>;
  /** the session of a new connection (`who`: the client's address:port) */
  session(who: string): OpenpiSession;
  /** port (0 picks a free one) */
  port: number;
  host: string;
  /** clients must send `Authorization: Api-Key <apiKey>` (default: no key) */
  apiKey?: string;
  /** answer one request at a time over all connections (one model, one device) */
  serial?: boolean;
  /** every answer, reply or error, takes at least this long, ms (default 0) */
  minReplyMs?: number;
  /** caps while decoding requests */
  limits?: Partial<DecodeLimits>;
  /** largest request frame, bytes (default 128 MiB; larger frames are closed with 1009 by ws) */
  maxPayload?: number;
  /** the text of an internal error sent to the client (default: its stack, as openpi sends its traceback) */
  internalErrorText?: (err: unknown) => string;
  /** what the server is, for the 426 answer to plain HTTP ("a WebSocket policy server") */
  what: string;
  /** the option that picks the port, for the message when it is in use */
  portFlag: string;
  /** one line per connection event (default: silent) */
  log?: (line: string) => void;
  /** log connections opening and closing (default true) */
  logConnections?: boolean;
};

/** A running openpi server. */
export type RunningOpenpiServer = {
  /** ws://host:port, the host it is bound to */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** requests answered with a reply so far */
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

/** Whether `header` is `Api-Key <key>`, compared in constant time (digests of equal length, so no length leaks either). */
export function apiKeyMatches(header: string | undefined, key: string): boolean {
  const sent = /^Api-Key (.+)$/.exec(header ?? '')?.[1] ?? '';
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(sent), digest(key));
}

/** Starts an openpi server; resolves once listening. */
export async function startOpenpiServer(o: OpenpiServerOptions): Promise<RunningOpenpiServer> {
  const log = o.log ?? (() => {});
  const logConnections = o.logConnections ?? true;
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    if ((req.url ?? '/').split('?')[0] === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('OK\n');
      return;
    }
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end(`this is ${o.what} (openpi protocol); connect with a WebSocket client, or GET /healthz\n`);
  });
  const apiKey = o.apiKey;
  if (apiKey !== undefined && apiKey.length === 0) throw new UserError('the API key is empty; pass a non-empty --api-key (or unset the variable)');
  // compression off, as openpi's server and client both run with compression=None
  const wss = new WebSocketServer({
    server: http, perMessageDeflate: false, maxPayload: o.maxPayload ?? 128 * 2 ** 20,
    // refused before the upgrade: a client without the key never sees the metadata frame
    verifyClient: apiKey === undefined ? undefined : ({ req }, done) => {
      if (apiKeyMatches(req.headers.authorization, apiKey)) return done(true);
      log(`connection from ${req.socket.remoteAddress}:${req.socket.remotePort} refused: missing or wrong API key`);
      done(false, 401, 'Unauthorized: send the header "Authorization: Api-Key <key>"', { 'WWW-Authenticate': 'Api-Key' });
    },
  });
  wss.on('error', () => {}); // ws re-emits the http server's errors; listen() below reports them
  const metadataFrame = packb(o.metadata);
  const queue = o.serial ? serialQueue() : <T>(job: () => Promise<T>) => job();
  let served = 0;

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const who = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    if (logConnections) log(`connection from ${who} opened`);
    const session = o.session(who);
    ws.send(metadataFrame);
    let prevTotalMs: number | undefined;
    let chain: Promise<void> = Promise.resolve();
    let failed = false;
    let inFlight = 0;

    /** openpi's error path: one text frame with the reason, then close 1011; later frames are dropped. */
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      session.close?.();
      const bad = err instanceof UserError;
      const message = bad ? `bad request: ${err.message}` : `internal error: ${o.internalErrorText ? o.internalErrorText(err) : err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
      if (session.onError) session.onError(err);
      else log(`connection from ${who}: ${message.split('\n')[0]}`);
      if (ws.readyState === ws.OPEN) {
        ws.send(message);
        ws.close(CLOSE_INTERNAL_ERROR, bad ? 'Bad request. Reason in previous frame.' : o.internalErrorText ? 'Internal server error. Reason in previous frame.' : 'Internal server error. Traceback included in previous frame.');
      }
    };

    const handle = async (data: Buffer, isBinary: boolean): Promise<void> => {
      if (failed || ws.readyState !== ws.OPEN) return;
      const start = performance.now();
      const floor = () => (o.minReplyMs ? new Promise((r) => setTimeout(r, Math.max(0, start + o.minReplyMs! - performance.now()))) : undefined);
      try {
        if (!isBinary) throw new UserError('requests must be binary frames holding msgpack (openpi msgpack_numpy.packb(obs)); got a text frame');
        const obs = unpackb(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), o.limits);
        const reply = packb(await queue(() => session.answer(obs, { prevTotalMs })));
        await floor();
        if (ws.readyState !== ws.OPEN) return;
        await new Promise<void>((resolve, reject) => ws.send(reply, (err) => (err ? reject(err) : resolve())));
        served++;
        prevTotalMs = performance.now() - start;
      } catch (err) {
        await floor();
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
    ws.on('close', (code) => {
      session.close?.();
      if (logConnections) log(`connection from ${who} closed (${code})`);
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new UserError(`port ${o.port} on ${o.host} is in use; pick another with ${o.portFlag}`) : err),
    );
    http.listen(o.port, o.host, resolve);
  });
  const address = http.address() as AddressInfo;
  return {
    url: boundUrl('ws', address),
    host: address.address,
    port: address.port,
    served: () => served,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.close(1001, 'server shutting down');
        wss.close(() => http.close(() => resolve()));
        http.closeAllConnections();
      }),
  };
}
