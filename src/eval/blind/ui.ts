/**
 * The blind study's web pages: operator, judge and admin, each one static HTML document with its
 * script (src/eval/web/ROLE.ts, TypeScript served with types stripped), served by the API without
 * authentication. A page holds no study data: it
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

/** A page: the login form, `main` (hidden until signed in) and its script, src/eval/web/ROLE.ts. */
function page(role: 'operator' | 'judge' | 'admin', title: string, main: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><style>${STYLE}</style></head>
<body data-role="${role}"><h1>${title}</h1>
<section id="login"><form id="login-form"><label>${role} token <input id="token" type="password" autocomplete="off" size="40"></label>
<button id="login-button" type="submit">Sign in</button></form>
<p class="muted">The study admin gave you this token (\`vlalab blind create\` prints one per role).</p></section>
<section id="main" hidden>${main}</section>
<p id="error" class="error" role="alert"></p>
<script type="module" src="/web/${role}.ts"></script>
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
<p id="done" class="big" hidden>All trials are done. Thank you.</p>`);

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
<p id="done" class="big" hidden>Every trial is judged. Thank you.</p>`);

const ADMIN = page('admin', 'Blind study: admin', `
<p>State: <b id="state"></b> <button id="start-study">Start / resume</button> <button id="pause-study">Pause</button> <button id="refresh">Refresh</button></p>
<p><progress id="progress-bar" max="1" value="0"></progress><br><span id="progress"></span></p>
<h2>Results</h2>
<p class="muted">Per model and task: success rate with its Wilson 95% interval, mean score (% of the rubric's points) with a bootstrap 95% interval.</p>
<table id="results"><thead><tr><th>model</th><th>task</th><th>trials</th><th>success</th><th>95% CI</th><th>mean score</th><th>95% CI</th></tr></thead><tbody></tbody></table>
<p>Ranking: <span id="ranking"></span></p>
<p><img id="chart" alt="mean score per model and task"></p>
<p><button id="export-csv">Export CSV (trials)</button> <button id="export-summary">Export CSV (summary)</button> <button id="export-json">Export JSON</button></p>`);

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
