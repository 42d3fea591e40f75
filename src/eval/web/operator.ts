/** The operator's page: current task, trial k of n, start / record or end, rest timer, done. */
import type { OperatorView } from '../blind/wire.ts';
import { $, checkedPoints, fail, json, login, rubricBoxes, say, show } from './common.ts';

type TrialView = Exclude<OperatorView, { done: true }>;

let view: TrialView | undefined;
const rested = new Set<number>();

function render(v: OperatorView): void {
  show('trial-view', !v.done);
  show('done', !!v.done);
  if (v.done) return;
  view = v;
  say('progress', `Trial ${v.trial} of ${v.of}`);
  say('task', v.task);
  say('instruction', v.instruction);
  say('status', v.status === 'active' ? 'Trial running: when the robot has finished, record what it achieved.' : 'Set up the scene for this task, then start the trial.');
  const resting = v.status === 'queued' && v.restBeforeSeconds > 0 && !rested.has(v.trial);
  show('paused', v.paused && v.status === 'queued');
  show('rest', resting && !v.paused);
  show('start', v.status === 'queued' && !resting && !v.paused);
  show('outcome', v.status === 'active');
  show('record', v.scoring === 'operator');
  show('end', v.scoring === 'judge');
  show('rubric', v.scoring === 'operator');
  show('check-hint', v.scoring === 'operator');
  show('end-hint', v.scoring === 'judge');
  if (v.status === 'active' && $('rubric').dataset.trial !== String(v.trial)) {
    rubricBoxes(v.rubric);
    $('rubric').dataset.trial = String(v.trial);
  }
  if (resting && !v.paused) rest(v.trial, v.restBeforeSeconds);
}

/** Counts the rest down, then shows the start button. */
function rest(trial: number, seconds: number): void {
  let left = seconds;
  say('rest-seconds', String(left));
  const tick = setInterval(() => {
    left -= 1;
    say('rest-seconds', String(Math.max(0, left)));
    if (left <= 0) {
      clearInterval(tick);
      rested.add(trial);
      if (view) render(view);
    }
  }, 1000);
}

const load = async (): Promise<void> => render(await json('/api/operator/current'));
const trial = (): number => view?.trial ?? -1;
$('start').addEventListener('click', () => json('/api/operator/start', { trial: trial() }).then(render).catch(fail));
$('record').addEventListener('click', () => json('/api/operator/record', { trial: trial(), points: checkedPoints() }).then(render).catch(fail));
$('end').addEventListener('click', () => json('/api/operator/end', { trial: trial() }).then(render).catch(fail));
$('refresh').addEventListener('click', () => load().catch(fail));
login(load);
