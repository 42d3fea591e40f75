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
import { isNdArray, type NdArray, type OpenpiSession, PolicyClient, ServerError, startOpenpiServer } from '../../serving/index.ts';
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
  /** the robot must send `Authorization: Api-Key <apiKey>`; other connections get HTTP 401 (default: no key) */
  apiKey?: string;
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

/** What a robot connection needs from its dispatcher. */
type Shared = {
  store: BlindStore; models: Record<string, string>; upstreamWaitMs: number;
  record(trial: number, obs: Record<string, unknown>): void; log(line: string): void;
};

/** The session of one robot connection: bound to the trial active at its first request, forwarded to that trial's model. */
function robotSession(who: string, c: Shared): OpenpiSession {
  let trial: number | undefined; // the trial this connection serves, fixed by its first request
  let upstream: Promise<PolicyClient> | undefined;
  return {
    async answer(obs) {
      const active = c.store.active();
      if (trial !== undefined && active?.id !== trial) throw new UserError(`trial ${trial} has ended; reconnect to run the next trial`);
      if (!active) throw new UserError('no trial is active; the operator must start the next trial, then the robot reconnects and sends its observation');
      trial = active.id;
      if (typeof obs !== 'object' || obs === null || Array.isArray(obs) || isNdArray(obs)) throw new UserError('the observation must be a dict (openpi observation)');
      c.record(active.id, obs as Record<string, unknown>);
      const url = c.models[active.model];
      try {
        if (!url) throw new Error('not in the study\'s model pool');
        upstream ??= PolicyClient.connect(url, { waitMs: c.upstreamWaitMs });
        const reply = await (await upstream).infer(obs as Record<string, unknown>);
        return { actions: reply.actions };
      } catch (err) {
        // the robot may learn what is wrong with its observation, never which model (or URL) said so
        const reason = badRequestReason(err, [active.model, url ?? '', url ? hostOf(url) : '']);
        if (reason) throw new UserError(`the policy server refused the observation: ${reason}`);
        // otherwise never a UserError: its text (URL, model's complaint) must not reach the robot
        throw new Error(`model ${active.model} at ${url}: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    onError: (err) => c.log(`robot ${who}${trial === undefined ? '' : ` (trial ${trial})`}: ${err instanceof Error ? err.message : String(err)}`),
    close: () => void upstream?.then((u) => u.close(), () => {}),
  };
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
  const log = options.log ?? (() => {});
  const shared: Shared = {
    store,
    models: store.study().definition.models,
    upstreamWaitMs: options.upstreamWaitMs ?? 2000,
    log,
    record(trial, obs) {
      let r = recording.get(trial);
      if (!r) recording.set(trial, (r = { seen: 0, next: frameCount(recordsDir, trial) })); // a rerun after a restart appends
      if (r.seen++ % every !== 0 || r.next >= maxFrames) return;
      const png = framePng(imagesOf(obs));
      if (png) writeFrame(recordsDir, trial, r.next++, png);
    },
  };
  const server = await startOpenpiServer({
    metadata: { ...DISPATCHER_METADATA },
    session: (who) => robotSession(who, shared),
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    apiKey: options.apiKey,
    minReplyMs: options.latencyFloorMs ?? 0,
    // upstream errors may name the model or its URL: the robot gets a generic line, the log the detail
    internalErrorText: () => 'the policy server behind this trial failed; tell the study admin (the dispatcher log has the details)',
    what: 'the robot port of a blind study',
    portFlag: '--robot-port',
    log,
    logConnections: false,
  });
  return { url: server.url, port: server.port, close: server.close };
}
