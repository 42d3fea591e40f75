/**
 * The blind study's web pages: operator, judge and admin, each one static HTML document with a
 * little inline script, served by the API without authentication. A page holds no study data: it
 * asks for its role's token (kept in sessionStorage), then reads everything from its role's API
 * endpoints with that token, so a page can show no more than its API answers (the operator's and
 * judge's never name a model). Server strings reach the DOM only through textContent.
 *
 *   GET /            links to the three pages
 *   GET /operator    current task, trial k of n, start / record or end, rest timer, done
 *   GET /judge       the next ended trial's frames and rubric, a score form
 *   GET /admin       state, start / pause, progress, results with intervals, chart, CSV/JSON export
 */

const STYLE = `
body { font-family: system-ui, sans-serif; max-width: 900px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.4em; } .big { font-size: 1.3em; } .muted { color: #777; }
button { font-size: 1em; padding: 0.4em 1em; margin: 0.3em 0.3em 0.3em 0; }
.error { color: #b00020; min-height: 1.2em; } [hidden] { display: none !important; }
table { border-collapse: collapse; margin: 1em 0; } th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
#frames img { image-rendering: pixelated; width: 256px; margin: 2px; border: 1px solid #ccc; }
progress { width: 100%; height: 1.2em; } label { display: block; margin: 0.2em 0; }
`;

/** Shared client code: the token login, API calls, and DOM helpers (no innerHTML of server text). */
const COMMON = `
const ROLE = document.body.dataset.role;
const KEY = 'vlalab-blind-' + ROLE;
const $ = (id) => document.getElementById(id);
const show = (id, on) => { $(id).hidden = !on; };
const say = (id, text) => { $(id).textContent = text; };
function fail(err) { say('error', String(err && err.message || err)); }
async function api(path, body) {
  const res = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: 'Bearer ' + sessionStorage.getItem(KEY), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401 || res.status === 403) { sessionStorage.removeItem(KEY); show('login', true); show('main', false); }
  if (!res.ok) throw new Error((await res.json().catch(() => ({}))).error || res.statusText);
  say('error', '');
  return res;
}
const json = async (path, body) => (await api(path, body)).json();
async function blobUrl(path) { return URL.createObjectURL(await (await api(path)).blob()); }
function login(start) {
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, $('token').value.trim());
    show('login', false); show('main', true);
    start().catch(fail);
  });
  if (sessionStorage.getItem(KEY)) { show('login', false); show('main', true); start().catch(fail); }
}
function rubricBoxes(rubric) {
  const box = $('rubric');
  box.replaceChildren();
  rubric.forEach((stage, i) => {
    const label = document.createElement('label');
    const input = document.createElement('input');
    input.type = 'checkbox'; input.dataset.points = String(stage.points); input.id = 'stage-' + i;
    label.append(input, ' ' + stage.name + ' (' + stage.points + ' pt)');
    box.append(label);
  });
}
const checkedPoints = () => [...$('rubric').querySelectorAll('input:checked')].reduce((s, x) => s + Number(x.dataset.points), 0);
`;

function page(role: 'operator' | 'judge' | 'admin', title: string, main: string, script: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><style>${STYLE}</style></head>
<body data-role="${role}"><h1>${title}</h1>
<section id="login"><form id="login-form"><label>${role} token <input id="token" type="password" autocomplete="off" size="40"></label>
<button id="login-button" type="submit">Sign in</button></form>
<p class="muted">The study admin gave you this token (\`vlalab blind create\` prints one per role).</p></section>
<section id="main" hidden>${main}</section>
<p id="error" class="error" role="alert"></p>
<script>${COMMON}${script}</script>
</body></html>
`;
}

const OPERATOR = page('operator', 'Blind study: operator', `
<div id="trial-view" hidden>
  <p class="muted" id="progress"></p>
  <p class="big">Task: <b id="task"></b></p>
  <p class="big">Instruction: <i id="instruction"></i></p>
  <p id="status"></p>
  <div id="paused" hidden><p class="big">The study is paused by the admin. Wait until it resumes.</p><button id="refresh">Check again</button></div>
  <div id="rest" hidden><p class="big">Rest: the next group starts in <b id="rest-seconds"></b> s.</p></div>
  <button id="start" hidden>Start trial</button>
  <div id="outcome" hidden>
    <p id="check-hint">Check every stage the robot completed:</p><div id="rubric"></div>
    <p id="end-hint">When the robot has finished, end the trial: a judge scores it later from its record.</p>
    <button id="record" hidden>Record outcome</button>
    <button id="end" hidden>End trial (a judge scores it)</button>
  </div>
</div>
<p id="done" class="big" hidden>All trials are done. Thank you.</p>`, `
let view; const rested = new Set();
function render(v) {
  view = v;
  show('trial-view', !v.done); show('done', !!v.done);
  if (v.done) return;
  say('progress', 'Trial ' + v.trial + ' of ' + v.of);
  say('task', v.task); say('instruction', v.instruction);
  say('status', v.status === 'active' ? 'Trial running: when the robot has finished, record what it achieved.' : 'Set up the scene for this task, then start the trial.');
  const resting = v.status === 'queued' && v.restBeforeSeconds > 0 && !rested.has(v.trial);
  show('paused', v.paused && v.status === 'queued');
  show('rest', resting && !v.paused);
  show('start', v.status === 'queued' && !resting && !v.paused);
  show('outcome', v.status === 'active');
  show('record', v.scoring === 'operator'); show('end', v.scoring === 'judge'); show('rubric', v.scoring === 'operator');
  show('check-hint', v.scoring === 'operator'); show('end-hint', v.scoring === 'judge');
  if (v.status === 'active' && $('rubric').dataset.trial !== String(v.trial)) { rubricBoxes(v.rubric); $('rubric').dataset.trial = String(v.trial); }
  if (resting && !v.paused) rest(v.trial, v.restBeforeSeconds);
}
function rest(trial, seconds) {
  let left = seconds;
  say('rest-seconds', String(left));
  const tick = setInterval(() => {
    left -= 1; say('rest-seconds', String(Math.max(0, left)));
    if (left <= 0) { clearInterval(tick); rested.add(trial); render(view); }
  }, 1000);
}
const load = async () => render(await json('/api/operator/current'));
$('start').addEventListener('click', () => json('/api/operator/start', { trial: view.trial }).then(render).catch(fail));
$('record').addEventListener('click', () => json('/api/operator/record', { trial: view.trial, points: checkedPoints() }).then(render).catch(fail));
$('end').addEventListener('click', () => json('/api/operator/end', { trial: view.trial }).then(render).catch(fail));
$('refresh').addEventListener('click', () => load().catch(fail));
login(load);`);

const JUDGE = page('judge', 'Blind study: judge', `
<div id="trial-view" hidden>
  <p class="muted">Trial <b id="trial"></b>; <span id="remaining"></span> waiting for a judgement.</p>
  <p class="big">Task: <b id="task"></b></p>
  <p>Instruction given: <i id="instruction"></i></p>
  <div id="frames"></div>
  <p>Check every stage the record shows completed:</p><div id="rubric"></div>
  <button id="score">Submit score</button>
</div>
<div id="waiting" hidden><p class="big">No trial is waiting for a judgement yet.</p>
  <p class="muted">A trial appears here once the operator ends it at the robot; this page checks again every 5 seconds.</p><button id="refresh">Check again</button></div>
<p id="not-judged" class="big" hidden>This study is scored by the operator at the robot: there is nothing for a judge to score.</p>
<p id="done" class="big" hidden>Every trial is judged. Thank you.</p>`, `
let view; let poll;
async function render(v) {
  view = v;
  clearTimeout(poll);
  if (v.waiting) poll = setTimeout(() => load().catch(fail), 5000);
  show('trial-view', v.trial !== undefined); show('waiting', !!v.waiting);
  show('not-judged', v.scoredBy === 'operator'); show('done', !!v.done && !v.waiting && v.scoredBy !== 'operator');
  if (v.trial === undefined) return;
  say('trial', String(v.trial)); say('remaining', String(v.remaining)); say('task', v.task); say('instruction', v.instruction);
  rubricBoxes(v.rubric);
  const frames = $('frames');
  frames.replaceChildren();
  if (v.frames === 0) { const p = document.createElement('p'); p.textContent = 'This trial has no recorded frames.'; frames.append(p); }
  for (let k = 0; k < v.frames; k++) {
    const img = document.createElement('img');
    img.alt = 'frame ' + k; img.src = await blobUrl('/api/judge/frame?trial=' + v.trial + '&k=' + k);
    frames.append(img);
  }
}
const load = async () => render(await json('/api/judge/next'));
$('score').addEventListener('click', () => json('/api/judge/score', { trial: view.trial, points: checkedPoints() }).then(render).catch(fail));
$('refresh').addEventListener('click', () => load().catch(fail));
login(load);`);

const ADMIN = page('admin', 'Blind study: admin', `
<p>State: <b id="state"></b> <button id="start-study">Start / resume</button> <button id="pause-study">Pause</button> <button id="refresh">Refresh</button></p>
<p><progress id="progress-bar" max="1" value="0"></progress><br><span id="progress"></span></p>
<h2>Results</h2>
<p class="muted">Per model and task: success rate with its Wilson 95% interval, mean score (% of the rubric's points) with a bootstrap 95% interval.</p>
<table id="results"><thead><tr><th>model</th><th>task</th><th>trials</th><th>success</th><th>95% CI</th><th>mean score</th><th>95% CI</th></tr></thead><tbody></tbody></table>
<p>Ranking: <span id="ranking"></span></p>
<p><img id="chart" alt="mean score per model and task"></p>
<p><button id="export-csv">Export CSV (trials)</button> <button id="export-summary">Export CSV (summary)</button> <button id="export-json">Export JSON</button></p>`, `
const pct = (x) => (100 * x).toFixed(0) + '%';
async function load() {
  const p = await json('/api/admin/progress');
  say('state', p.state);
  $('progress-bar').max = p.total; $('progress-bar').value = p.done;
  say('progress', p.done + ' of ' + p.total + ' trials recorded' + (p.ended ? ', ' + p.ended + ' waiting for the judge' : ''));
  const r = await json('/api/admin/results');
  const body = $('results').tBodies[0];
  body.replaceChildren();
  for (const c of r.cells) {
    const tr = document.createElement('tr');
    for (const text of [c.model, c.task, String(c.trials), pct(c.successRate), pct(c.successCi95[0]) + '-' + pct(c.successCi95[1]), pct(c.meanScore), pct(c.scoreCi95[0]) + '-' + pct(c.scoreCi95[1])]) {
      const td = document.createElement('td'); td.textContent = text; tr.append(td);
    }
    body.append(tr);
  }
  say('ranking', r.ranking.map((x, i) => (i + 1) + '. ' + x.model + ' (' + pct(x.meanScore) + ')').join(', ') || 'no trials recorded yet');
  if (r.cells.length) $('chart').src = await blobUrl('/api/admin/chart.svg');
}
async function download(path, name) {
  const a = document.createElement('a');
  a.href = await blobUrl(path); a.download = name; document.body.append(a); a.click(); a.remove();
}
$('start-study').addEventListener('click', () => json('/api/admin/start', {}).then(load).catch(fail));
$('pause-study').addEventListener('click', () => json('/api/admin/pause', {}).then(load).catch(fail));
$('refresh').addEventListener('click', () => load().catch(fail));
$('export-csv').addEventListener('click', () => download('/api/admin/export.csv', 'trials.csv').catch(fail));
$('export-summary').addEventListener('click', () => download('/api/admin/export.csv?table=summary', 'summary.csv').catch(fail));
$('export-json').addEventListener('click', () => download('/api/admin/export.json', 'study.json').catch(fail));
login(load);`);

const INDEX = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Blind study</title><style>${STYLE}</style></head>
<body><h1>Blind study</h1><ul>
<li><a href="/operator">Operator</a>: runs the trials at the robot</li>
<li><a href="/judge">Judge</a>: scores trial records (judge-scored studies)</li>
<li><a href="/admin">Admin</a>: starts and pauses the study, reads the results</li>
</ul></body></html>
`;

/** The pages by path. */
export const UI_PAGES: Readonly<Record<string, string>> = Object.freeze({ '/': INDEX, '/operator': OPERATOR, '/judge': JUDGE, '/admin': ADMIN });
