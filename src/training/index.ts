/** The training layer. */
export { ADAMW_DEFAULTS, type AdamWConfig, type AdamWState, adamwInit, adamwStep } from './optimizer.ts';
export { type CosineSchedule, cosineLr } from './schedule.ts';
