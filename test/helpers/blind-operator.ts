/**
 * A scripted operator for crash tests: opens the study database given as argv[2] and runs every
 * remaining trial (start, then record deterministic points that depend only on the trial), so a
 * run killed at any moment and restarted must end with the same outcomes as an uninterrupted one.
 * argv[3] (optional): milliseconds to spend on each trial, so that kills land mid-study.
 */
import { BlindStore } from '../../src/eval/blind/store.ts';

const store = new BlindStore(process.argv[2]);
const trialMs = Number(process.argv[3] ?? 0);
const pause = new Int32Array(new SharedArrayBuffer(4));
process.stdout.write('ready\n'); // the crash test times its kill from here, not from process start
for (let t = store.current(); t; t = store.current()) {
  store.start(t.id);
  if (trialMs > 0) Atomics.wait(pause, 0, 0, trialMs); // the robot runs the trial
  const max = (store.study().definition.tasks.find((x) => x.name === t!.task)!.rubric).reduce((s, r) => s + r.points, 0);
  let h = 0;
  for (const ch of `${t.model}/${t.task}/${t.block}/${t.position}`) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  store.record(t.id, h % (max + 1));
}
store.close();
