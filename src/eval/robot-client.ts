/**
 * The simulated robot as a plain openpi client: the MuJoCo benchmark sends its observations to any
 * openpi policy server (`vlalab serve`, an openpi server, the blind study's robot port) and runs the
 * actions that come back. Unlike `eval --server` it needs nothing from the server's metadata: the
 * blind robot port withholds it. One connection per episode, as a robot runs one trial per
 * connection on the robot port.
 */
import { makeObservation, PolicyClient, ServerError, squareFrames } from '../serving/index.ts';
import type { SimObservation } from '../sim/index.ts';
import { UserError } from '../util/index.ts';
import type { ChunkPolicy } from './closed-loop.ts';

/** What a server said when it refused a request: its error text without the client's framing. */
export function serverReason(err: ServerError): string {
  return err.message.replace(/^Error in inference server:\n/, '').replace(/^connection closed by the server \(code \d+\): /, '');
}

/** Options of serverChunkPolicy. */
export type ServerRobotOptions = {
  /** keep retrying a refused connection this long, ms */
  connectWaitMs?: number;
  /** when the server says no trial is active (the blind robot port), try again every second for this long, ms (0: fail at once) */
  trialWaitMs?: number;
  /** told once each time the robot starts waiting for a trial */
  onWaiting?: (reason: string) => void;
  /** the server's API key (sent as `Authorization: Api-Key <key>`) */
  apiKey?: string;
};

/**
 * A ChunkPolicy asking the openpi server at `url`: a new connection each episode (at its first
 * query), wire observations with `cameras` at `imageSize`, the chunk's rows as actions. A refusal
 * becomes a one-line UserError with the server's reason. `close()` ends the last connection.
 */
export function serverChunkPolicy(url: string, cameras: readonly string[], imageSize: number, o: ServerRobotOptions = {}): ChunkPolicy<SimObservation> & { close(): Promise<void> } {
  let client: PolicyClient | undefined;
  let fresh = true; // no answer yet on this episode's connection
  const close = async () => {
    const c = client;
    client = undefined;
    await c?.close();
  };
  return {
    reset() {
      void close();
      fresh = true;
    },
    async predict(obs) {
      const wire = makeObservation({ images: squareFrames(cameras, obs.images, imageSize), state: obs.state, prompt: obs.instruction });
      const deadline = performance.now() + (o.trialWaitMs ?? 0);
      let told = false;
      for (;;) {
        client ??= await PolicyClient.connect(url, { waitMs: o.connectWaitMs ?? 0, apiKey: o.apiKey });
        try {
          const chunk = await client.predictChunk(wire);
          fresh = false;
          return chunk;
        } catch (err) {
          if (!(err instanceof ServerError)) throw err;
          await close();
          const reason = serverReason(err);
          // the robot port before the operator starts the trial: wait for it when asked to
          if (fresh && /no trial is active/.test(reason) && performance.now() < deadline) {
            if (!told) o.onWaiting?.(reason);
            told = true;
            await new Promise((r) => setTimeout(r, 1000));
            continue;
          }
          throw new UserError(`${url}: ${reason}`);
        }
      }
    },
    close,
  };
}
