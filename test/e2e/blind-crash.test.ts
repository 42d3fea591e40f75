/**
 * Crash test of the blind study service: `vlalab blind serve` runs as a child process while a
 * simulated study (robot through the dispatcher, operator and judge through the HTTP API) is
 * driven against it; the server is SIGKILLed after every trial's episode, at a random delay, and
 * restarted on the same ports each time. The study must end with exactly N scored trials per model and task and the same
 * results as an uninterrupted run of the same study.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BlindStore, driveStudy, SimOracle, simStudyDefinition, startBlindApi, startDispatcher, startSimModels, summarize } from '../../src/eval/index.ts';
import { Rng } from '../../src/util/index.ts';
import { BIN } from '../helpers/cli.ts';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts `vlalab blind serve`; resolves once it says it is listening. */
function serve(db: string, port: number, robotPort: number): Promise<{ child: ChildProcess; exited: Promise<void> }> {
  const child = spawn(process.execPath, [BIN, 'blind', 'serve', '--db', db, '--port', String(port), '--robot-port', String(robotPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => { if (b.toString().includes('robot port')) resolve({ child, exited }); });
    void exited.then(() => reject(new Error(`blind serve exited before listening (code ${child.exitCode}): ${stderr}`)));
  });
}

const perCell = (store: BlindStore) => {
  const n = new Map<string, number>();
  for (const o of store.outcomes()) n.set(`${o.model}/${o.task}`, (n.get(`${o.model}/${o.task}`) ?? 0) + 1);
  return n;
};

describe('blind study service under SIGKILL', () => {
  it('ends with exactly N trials per model and task and the results of an uninterrupted run', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-blind-crash-'));
    const oracle = new SimOracle();
    const models = await startSimModels(2, oracle);
    const N = 2;
    const def = simStudyDefinition({ urls: models.urls, tasks: ['water-plant', 'wipe-board'], trials: N, scoring: 'judge', seed: 11 });
    try {
      // the uninterrupted run, in-process
      const clean = new BlindStore(join(dir, 'clean.db'));
      const cleanTokens = clean.create(def);
      const api = await startBlindApi(clean);
      const dispatcher = await startDispatcher(clean);
      await driveStudy({ api: api.url, robot: dispatcher.url, tokens: cleanTokens, oracle, seed: 11 });
      await dispatcher.close();
      await api.close();

      // the same study against `vlalab blind serve`, killed at random moments
      const db = join(dir, 'crashed.db');
      const setup = new BlindStore(db);
      const tokens = setup.create(def);
      setup.close();
      const [port, robotPort] = [await freePort(), await freePort()];
      const rng = new Rng(5);
      let kills = 0;
      let midway = 0;
      let server = await serve(db, port, robotPort);
      const killAndRestart = async () => {
        server.child.kill('SIGKILL');
        await server.exited;
        kills++;
        const probe = new BlindStore(db);
        const { done, ended, total } = probe.progress();
        probe.close();
        if (done + ended > 0 && done < total) midway++;
        server = await serve(db, port, robotPort);
      };
      // one kill per trial, paced by the study rather than by the clock (a fast machine finishes
      // the study between two timer ticks): each time an episode has run, the server is killed
      // a random 0-0.6 s later, so kills land before the trial is recorded, while it is judged
      // and in the middle of the next trial's episode; every kill follows a finished episode, so
      // the study progresses however slow the machine
      let kills$ = Promise.resolve();
      const onTrial = () => {
        const delay = rng.int(600);
        kills$ = kills$.then(() => new Promise((r) => setTimeout(r, delay))).then(killAndRestart);
      };
      await driveStudy({ api: `http://127.0.0.1:${port}`, robot: `ws://127.0.0.1:${robotPort}`, tokens, oracle, seed: 11, patienceMs: 30_000, onTrial });
      await kills$;
      server.child.kill('SIGTERM');
      await server.exited;

      t.diagnostic(`${kills} kills, ${midway} mid-study`);
      assert.ok(kills >= 3 && midway >= 2, `only ${midway} of ${kills} kills landed mid-study; the test did not exercise crashes`);
      const crashed = new BlindStore(db);
      assert.deepEqual(crashed.progress(), { done: 8, ended: 0, total: 8 });
      assert.equal(crashed.study().state, 'done');
      assert.deepEqual([...perCell(crashed).values()], Array(4).fill(N), 'exactly N trials per model and task');
      assert.deepEqual(perCell(crashed), perCell(clean));
      assert.deepEqual(crashed.outcomes(), clean.outcomes(), 'the same outcome for every trial');
      assert.deepEqual(summarize(crashed.outcomes(), 11), summarize(clean.outcomes(), 11));
      crashed.close();
      clean.close();
    } finally {
      await models.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
