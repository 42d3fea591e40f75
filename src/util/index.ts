export { UserError, check } from './errors.ts';
export { Rng } from './rng.ts';
export { ProgressBar, formatSeconds } from './progress.ts';
export { editDistance, unknownNameMessage } from './suggest.ts';
