/** The admin's page: state, start / pause, progress, results with intervals, chart, CSV/JSON export. */
import { $, blobUrl, fail, json, login, say } from './common.ts';

const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;

async function load(): Promise<void> {
  const p = await json('/api/admin/progress');
  say('state', p.state);
  const bar = $<HTMLProgressElement>('progress-bar');
  bar.max = p.total;
  bar.value = p.done;
  say('progress', `${p.done} of ${p.total} trials recorded${p.ended ? `, ${p.ended} waiting for the judge` : ''}`);
  const r = await json('/api/admin/results');
  const body = $<HTMLTableElement>('results').tBodies[0];
  body.replaceChildren();
  for (const c of r.cells) {
    const tr = document.createElement('tr');
    for (const text of [c.model, c.task, String(c.trials), pct(c.successRate), `${pct(c.successCi95[0])}-${pct(c.successCi95[1])}`, pct(c.meanScore), `${pct(c.scoreCi95[0])}-${pct(c.scoreCi95[1])}`]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    body.append(tr);
  }
  say('ranking', r.ranking.map((x, i) => `${i + 1}. ${x.model} (${pct(x.meanScore)})`).join(', ') || 'no trials recorded yet');
  if (r.cells.length) $<HTMLImageElement>('chart').src = await blobUrl('/api/admin/chart.svg');
}

/** Saves a binary answer of the API as a file. */
async function download(path: string, name: string): Promise<void> {
  const a = document.createElement('a');
  a.href = await blobUrl(path);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}

$('start-study').addEventListener('click', () => json('/api/admin/start', {}).then(load).catch(fail));
$('pause-study').addEventListener('click', () => json('/api/admin/pause', {}).then(load).catch(fail));
$('refresh').addEventListener('click', () => load().catch(fail));
$('export-csv').addEventListener('click', () => download('/api/admin/export.csv', 'trials.csv').catch(fail));
$('export-summary').addEventListener('click', () => download('/api/admin/export.csv?table=summary', 'summary.csv').catch(fail));
$('export-json').addEventListener('click', () => download('/api/admin/export.json', 'study.json').catch(fail));
login(load);
