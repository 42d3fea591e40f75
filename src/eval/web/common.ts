/**
 * What every page of the blind study shares: the token login (kept in sessionStorage per role),
 * typed calls of the API (wire.ts), and DOM helpers. Server strings reach the DOM only through
 * textContent, never innerHTML.
 */
import type { ApiBody, ApiError, ApiPath, ApiReply, RubricStage } from '../blind/wire.ts';

const ROLE = document.body.dataset.role ?? '';
const KEY = `vlalab-blind-${ROLE}`;

/** The element with `id` (the page's markup has every id a script asks for). */
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no element #${id}`);
  return el as T;
}

/** Shows or hides element `id`. */
export const show = (id: string, on: boolean): void => { $(id).hidden = !on; };
/** Sets the text of element `id`. */
export const say = (id: string, text: string): void => { $(id).textContent = text; };
/** Shows an error on the page. */
export function fail(err: unknown): void {
  say('error', String((err instanceof Error && err.message) || err));
}

/** Calls the API with the role's token (POST with a JSON body, GET without); a 401/403 signs out. */
async function api(path: string, body?: unknown): Promise<Response> {
  const res = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${sessionStorage.getItem(KEY)}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401 || res.status === 403) {
    sessionStorage.removeItem(KEY);
    show('login', true);
    show('main', false);
  }
  if (!res.ok) throw new Error(((await res.json().catch(() => ({}))) as Partial<ApiError>).error || res.statusText);
  say('error', '');
  return res;
}

/** A JSON call of the API, typed by wire.ts. */
export async function json<P extends ApiPath>(path: P, ...body: ApiBody<P> extends undefined ? [] : [ApiBody<P>]): Promise<ApiReply<P>> {
  return (await api(path, body[0])).json() as Promise<ApiReply<P>>;
}

/** An object URL of a binary answer (a frame, the chart, an export); `path` may carry a query. */
export async function blobUrl(path: string): Promise<string> {
  return URL.createObjectURL(await (await api(path)).blob());
}

/** Wires the token form; runs `start` once signed in (at once when a token is kept). */
export function login(start: () => Promise<void>): void {
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, $<HTMLInputElement>('token').value.trim());
    show('login', false);
    show('main', true);
    start().catch(fail);
  });
  if (sessionStorage.getItem(KEY)) {
    show('login', false);
    show('main', true);
    start().catch(fail);
  }
}

/** One checkbox per rubric stage in #rubric. */
export function rubricBoxes(rubric: readonly RubricStage[]): void {
  const box = $('rubric');
  box.replaceChildren();
  rubric.forEach((stage, i) => {
    const label = document.createElement('label');
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.dataset.points = String(stage.points);
    input.id = `stage-${i}`;
    label.append(input, ` ${stage.name} (${stage.points} pt)`);
    box.append(label);
  });
}

/** The points of the checked rubric stages. */
export const checkedPoints = (): number =>
  [...$('rubric').querySelectorAll<HTMLInputElement>('input:checked')].reduce((s, x) => s + Number(x.dataset.points), 0);
