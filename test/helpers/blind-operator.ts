/**
 * A scripted operator for crash tests: opens the study database given as argv[2] and runs every
 * remaining trial (start, then record deterministic points that depend only on the trial), so a
 * run killed at any moment and restarted must end with the same outcomes as an uninterrupted one.
 */
import { BlindStore } from '../../src/eval/blind/store.ts';

const store = new BlindStore(process.argv[2]);
for (let t = store.current(); t; t = store.current()) {
  store.start(t.id);
  const max = (store.study().definition.tasks.find((x) => x.name === t!.task)!.rubric).reduce((s, r) => s + r.points, 0);
  let h = 0;
  for (const ch of `${t.model}/${t.task}/${t.block}/${t.position}`) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  store.record(t.id, h % (max + 1));
}
store.close();
