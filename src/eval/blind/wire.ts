/**
 * Every JSON message between the blind study's API (api.ts) and its pages (src/eval/web/), one
 * union shared by both sides (as Vite shares its HMR payload types): the server's route table is
 * checked against it, and the pages' `json()` calls are typed by it. Types only, with no imports,
 * so the browser's DOM-only tsconfig can read this file.
 */

/** A rubric stage as the operator and judge see it. */
export type RubricStage = { name: string; points: number };

/** What the operator sees of the current trial: never a model name, alias map or server URL. */
export type OperatorView = {
  task: string; instruction: string; rubric: RubricStage[]; trial: number; of: number;
  status: 'queued' | 'active'; restBeforeSeconds: number; scoring: 'operator' | 'judge'; paused: boolean;
  done?: undefined;
} | { done: true };

/** What the judge sees of the next trial to score: its id, task and record, never its model or alias. */
export type JudgeView = {
  trial: number; task: string; instruction: string; rubric: RubricStage[]; frames: number; remaining: number;
  waiting?: undefined; done?: undefined; scoredBy?: undefined;
} | { trial?: undefined; waiting: true; done: false; scoredBy?: undefined } | { trial?: undefined; waiting?: undefined; done: true; scoredBy?: 'operator' };

/** A study's state. */
export type StudyState = 'created' | 'running' | 'paused' | 'done';

/** The admin's progress line. */
export type ProgressView = { done: number; ended: number; total: number; state: StudyState };

/** Results of one model on one task (de-anonymized: admin only). */
export type CellView = {
  model: string; task: string; trials: number; successes: number; successRate: number; successCi95: [number, number];
  meanScore: number; scoreCi95: [number, number];
};

/** The admin's results: per model and task, pairwise tests per task, a ranking by mean score. */
export type ResultsView = {
  cells: CellView[];
  pairwise: { task: string; a: string; b: string; p: number; test: 'fisher-exact-two-sided' }[];
  ranking: { model: string; meanScore: number }[];
};

/** Every JSON call: its path, method, request body and reply. */
export type ApiCall =
  | { path: '/api/operator/current'; method: 'GET'; body: undefined; reply: OperatorView }
  | { path: '/api/operator/start'; method: 'POST'; body: { trial: number }; reply: OperatorView }
  | { path: '/api/operator/record'; method: 'POST'; body: { trial: number; points: number }; reply: OperatorView }
  | { path: '/api/operator/end'; method: 'POST'; body: { trial: number }; reply: OperatorView }
  | { path: '/api/judge/next'; method: 'GET'; body: undefined; reply: JudgeView }
  | { path: '/api/judge/score'; method: 'POST'; body: { trial: number; points: number }; reply: JudgeView }
  | { path: '/api/admin/progress'; method: 'GET'; body: undefined; reply: ProgressView }
  | { path: '/api/admin/start'; method: 'POST'; body: Record<string, never>; reply: { state: StudyState } }
  | { path: '/api/admin/pause'; method: 'POST'; body: Record<string, never>; reply: { state: StudyState } }
  | { path: '/api/admin/results'; method: 'GET'; body: undefined; reply: ResultsView };

/** The path of a JSON call. */
export type ApiPath = ApiCall['path'];
/** What `path` answers. */
export type ApiReply<P extends ApiPath> = Extract<ApiCall, { path: P }>['reply'];
/** What `path` takes (undefined: a GET). */
export type ApiBody<P extends ApiPath> = Extract<ApiCall, { path: P }>['body'];
/** The method of `path`. */
export type ApiMethod<P extends ApiPath> = Extract<ApiCall, { path: P }>['method'];

/** An error answer of any endpoint (4xx, 5xx). */
export type ApiError = { error: string };
