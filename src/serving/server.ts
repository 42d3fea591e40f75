/**
 * The policy server, speaking openpi's WebSocket protocol (openpi `WebsocketPolicyServer`) through
 * the shared core (openpi-core.ts): per request one reply msgpack({"actions": f4[H, D], ...,
 * "server_timing": {"infer_ms", "prev_total_ms"}}), all inferences through one FIFO queue.
 */
import { f32 } from './msgpack-numpy.ts';
import { type OpenpiServerOptions, startOpenpiServer, type RunningOpenpiServer } from './openpi-core.ts';
import type { Policy, PolicyOutput } from './policy.ts';

export { API_KEY_ENV, CLOSE_INTERNAL_ERROR, MAX_IN_FLIGHT } from './openpi-core.ts';

/** openpi's default port. */
export const DEFAULT_PORT = 8000;
/** Loopback by default: serving on all interfaces must be asked for (--host 0.0.0.0). */
export const DEFAULT_HOST = '127.0.0.1';

/** Server options (see OpenpiServerOptions): port (default 8000; 0 picks a free one), host (default 127.0.0.1), apiKey, limits, maxPayload, log. */
export type ServerOptions = Partial<Pick<OpenpiServerOptions, 'port' | 'host' | 'apiKey' | 'limits' | 'maxPayload' | 'log'>>;

/** A running server. */
export type RunningServer = RunningOpenpiServer;

function checkOutput(out: PolicyOutput, h: number, d: number): void {
  const [oh, od] = out.shape;
  if (oh !== h || od !== d || out.actions.length !== h * d) {
    throw new Error(`policy returned actions of shape [${out.shape}] (${out.actions.length} values); its metadata promises [${h}, ${d}]`);
  }
}

/** Starts serving `policy`; resolves once listening. */
export async function startServer(policy: Policy, options: ServerOptions = {}): Promise<RunningServer> {
  const { action_horizon: h, action_dim: d } = policy.metadata;
  return startOpenpiServer({
    metadata: policy.metadata,
    session: () => ({
      async answer(obs, { prevTotalMs }) {
        const t0 = performance.now();
        const out = await policy.infer(obs);
        const inferMs = performance.now() - t0;
        checkOutput(out, h, d);
        const timing: Record<string, number> = { infer_ms: inferMs };
        if (prevTotalMs !== undefined) timing.prev_total_ms = prevTotalMs;
        return { ...out.extra, actions: f32([h, d], out.actions), server_timing: timing };
      },
    }),
    serial: true,
    port: options.port ?? DEFAULT_PORT,
    host: options.host ?? DEFAULT_HOST,
    apiKey: options.apiKey,
    limits: options.limits,
    maxPayload: options.maxPayload,
    log: options.log,
    what: 'a WebSocket policy server',
    portFlag: '--port',
  });
}
