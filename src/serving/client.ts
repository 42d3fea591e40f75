/**
 * A TypeScript client for openpi-protocol policy servers (ours or openpi's), like openpi's
 * `WebsocketClientPolicy`: connect (retrying while the server starts), read the metadata frame,
 * then one request at a time: send msgpack(observation), receive msgpack(reply).
 */
import WebSocket from 'ws';
import { z } from 'zod';
import { UserError } from '../util/index.ts';
import { type DecodeLimits, isNdArray, type NdArray, packb, unpackb } from './msgpack-numpy.ts';
import type { Policy, PolicyMetadata } from './policy.ts';

/** The reply to one request. */
export type InferReply = {
  /** [H, D] float32 action chunk */
  actions: NdArray;
  /** the server's "server_timing" ({} if it sent none) */
  serverTiming: Record<string, number>;
  /** round trip measured here (encode + send + wait + decode), ms */
  clientMs: number;
  /** the whole decoded reply (other policy outputs live here) */
  reply: Record<string, unknown>;
};

/** Connection options. */
export type ClientOptions = {
  /** keep retrying a refused connection for this long, ms (default 0: fail at once) */
  waitMs?: number;
  /** caps while decoding replies */
  limits?: Partial<DecodeLimits>;
  /** sent as `Authorization: Api-Key <apiKey>`, as openpi's client does, to a server that requires a key */
  apiKey?: string;
};

/** Thrown when the server answers with an error text frame (openpi's "Error in inference server"). */
export class ServerError extends Error {
  override name = 'ServerError';
}

type Pending = { resolve: (data: Uint8Array) => void; reject: (err: Error) => void };

/** A connected client; make one with `PolicyClient.connect`. */
export class PolicyClient {
  /** the metadata frame the server sent on connect */
  readonly metadata: Record<string, unknown>;
  readonly #ws: WebSocket;
  readonly #limits: Partial<DecodeLimits>;
  #pending: Pending | undefined;
  #closedWith: Error | undefined;
  #serverText: string | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(ws: WebSocket, metadata: Record<string, unknown>, limits: Partial<DecodeLimits>) {
    this.#ws = ws;
    this.metadata = metadata;
    this.#limits = limits;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const p = this.#pending;
      this.#pending = undefined;
      if (!isBinary) {
        this.#serverText = data.toString('utf8');
        p?.reject(new ServerError(`Error in inference server:\n${this.#serverText}`));
      } else if (p) p.resolve(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    });
    ws.on('close', (code, reason) => {
      const text = this.#serverText ? `: ${this.#serverText}` : reason.length ? `: ${reason.toString()}` : '';
      this.#closedWith = new ServerError(`connection closed by the server (code ${code})${text}`);
      this.#pending?.reject(this.#closedWith);
      this.#pending = undefined;
    });
  }

  /** Connects to `url` (ws://host:port[/path]) and reads the metadata frame. */
  static async connect(url: string, options: ClientOptions = {}): Promise<PolicyClient> {
    const deadline = performance.now() + (options.waitMs ?? 0);
    for (;;) {
      try {
        const { ws, first } = await open(url, options.apiKey);
        const metadata = unpackb(first, options.limits);
        if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
          ws.close();
          throw new UserError(`${url} sent a metadata frame that is not a dict; is it an openpi policy server?`);
        }
        return new PolicyClient(ws, metadata as Record<string, unknown>, options.limits ?? {});
      } catch (err) {
        const refused = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
        if (!refused || performance.now() >= deadline) {
          if (refused) throw new UserError(`cannot connect to ${url}: connection refused; is the server running (vlalab serve)?`);
          throw err;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** Sends one observation and resolves with the reply; calls are queued, one in flight. */
  infer(observation: Record<string, unknown>): Promise<InferReply> {
    const run = this.#queue.then(() => this.#inferNow(observation));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #inferNow(observation: Record<string, unknown>): Promise<InferReply> {
    if (this.#ws.readyState === WebSocket.CLOSING) await new Promise((r) => this.#ws.once('close', r));
    if (this.#closedWith) throw this.#closedWith;
    if (this.#ws.readyState !== WebSocket.OPEN) throw new ServerError('the connection is closed; connect again');
    const t0 = performance.now();
    const frame = packb(observation);
    const data = await new Promise<Uint8Array>((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#ws.send(frame, (err) => err && reject(err));
    });
    const reply = unpackb(data, this.#limits) as Record<string, unknown>;
    const clientMs = performance.now() - t0;
    const actions = reply?.actions;
    if (!isNdArray(actions) || actions.shape.length !== 2) throw new ServerError('the server replied without an "actions" array of shape [H, D]');
    const timing = reply.server_timing;
    return { actions, serverTiming: typeof timing === 'object' && timing !== null ? (timing as Record<string, number>) : {}, clientMs, reply };
  }

  /** The chunk for one observation as H rows of D actions (what a closed-loop runner executes). */
  async predictChunk(observation: Record<string, unknown>): Promise<Float32Array[]> {
    const { actions } = await this.infer(observation);
    const [h, d] = actions.shape;
    const data = Float32Array.from(actions.data as ArrayLike<number>); // [H * D], any float dtype
    return Array.from({ length: h }, (_, t) => data.slice(t * d, (t + 1) * d));
  }

  /** Closes the connection (normal closure). */
  close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.#ws.once('close', () => resolve());
      this.#ws.close(1000);
    });
  }
}

/** Opens a socket and waits for its first (metadata) frame. */
function open(url: string, apiKey?: string): Promise<{ ws: WebSocket; first: Uint8Array }> {
  return new Promise((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 2 ** 30, headers: apiKey ? { authorization: `Api-Key ${apiKey}` } : {} });
    } catch (err) {
      reject(new UserError(`bad server URL ${JSON.stringify(url)}: ${(err as Error).message}; use ws://host:port`));
      return;
    }
    const fail = (err: Error) => {
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
      reject(err);
    };
    ws.once('error', fail);
    ws.once('unexpected-response', (_req, res) => fail(res.statusCode === 401
      ? new UserError(`${url} refused the connection (HTTP 401): it requires an API key; pass the server's key (${apiKey ? 'the one given is wrong' : 'set VLALAB_API_KEY'})`)
      : new ServerError(`${url} answered HTTP ${res.statusCode} instead of a WebSocket upgrade; is it an openpi policy server?`)));
    ws.once('close', (code) => fail(new ServerError(`${url} closed the connection (code ${code}) before sending metadata`)));
    ws.once('message', (data: Buffer, isBinary: boolean) => {
      ws.removeAllListeners();
      if (!isBinary) return fail(new ServerError(`${url} sent text instead of metadata: ${data.toString('utf8').slice(0, 200)}`));
      ws.on('error', () => {}); // later errors surface as 'close'
      resolve({ ws, first: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    });
  });
}

const remoteMetadata = z.looseObject({
  embodiment: z.string(),
  action_horizon: z.number().int().positive(),
  action_dim: z.number().int().positive(),
  parameterization: z.string(),
  observation_keys: z.array(z.string()),
  state_dim: z.number().int().positive(),
});

/**
 * A connected client as a Policy, so code written against Policy (the simulator evaluation, a
 * proxy server) runs unchanged against a policy served elsewhere. Needs vlalab's metadata fields.
 */
export function remotePolicy(client: PolicyClient): Policy {
  const r = remoteMetadata.safeParse(client.metadata);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new UserError(`the server's metadata has no valid "${issue.path.join('.')}" (${issue.message}); is it a vlalab server? Other openpi servers work through PolicyClient.infer`);
  }
  const metadata = r.data as PolicyMetadata;
  return {
    metadata,
    async infer(observation) {
      if (typeof observation !== 'object' || observation === null) throw new UserError('the observation must be a dict');
      const { actions } = await client.infer(observation as Record<string, unknown>);
      const [h, d] = actions.shape;
      return { actions: Float32Array.from(actions.data as ArrayLike<number>), shape: [h, d] };
    },
  };
}
