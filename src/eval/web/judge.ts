/** The judge's page: the next ended trial's frames and rubric, a score form; polls while none waits. */
import type { JudgeView } from '../blind/wire.ts';
import { $, blobUrl, checkedPoints, fail, json, login, rubricBoxes, say, show } from './common.ts';

let view: JudgeView | undefined;
let poll: ReturnType<typeof setTimeout> | undefined;

async function render(v: JudgeView): Promise<void> {
  view = v;
  clearTimeout(poll);
  if (v.waiting) poll = setTimeout(() => load().catch(fail), 5000);
  show('trial-view', v.trial !== undefined);
  show('waiting', !!v.waiting);
  show('not-judged', v.scoredBy === 'operator');
  show('done', !!v.done && !v.waiting && v.scoredBy !== 'operator');
  if (v.trial === undefined) return;
  say('trial', String(v.trial));
  say('remaining', String(v.remaining));
  say('task', v.task);
  say('instruction', v.instruction);
  rubricBoxes(v.rubric);
  const frames = $('frames');
  frames.replaceChildren();
  if (v.frames === 0) {
    const p = document.createElement('p');
    p.textContent = 'This trial has no recorded frames.';
    frames.append(p);
  }
  for (let k = 0; k < v.frames; k++) {
    const img = document.createElement('img');
    img.alt = `frame ${k}`;
    img.src = await blobUrl(`/api/judge/frame?trial=${v.trial}&k=${k}`);
    frames.append(img);
  }
}

const load = async (): Promise<void> => render(await json('/api/judge/next'));
$('score').addEventListener('click', () => json('/api/judge/score', { trial: view?.trial ?? -1, points: checkedPoints() }).then(render).catch(fail));
$('refresh').addEventListener('click', () => load().catch(fail));
login(load);
