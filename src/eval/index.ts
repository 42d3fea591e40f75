/** The evaluation layer: closed-loop rollouts in the simulator, intervals, (later) blind studies. */
export { type ChunkPolicy, type ClosedLoopEnv, type EpisodeResult, evaluationSeeds, runEpisode } from './closed-loop.ts';
export { wilsonInterval } from './intervals.ts';
export { type SimEvalOptions, type TaskEvaluation, evaluateInSim, simChunkPolicy, writeRecording } from './simulated.ts';
export { type StudyDefinition, type TaskDefinition, maxPoints, parseStudy, studySchema } from './blind/study.ts';
export { type Block, type StudyPlan, planStudy } from './blind/protocol.ts';
export { type CellResult, type TrialOutcome, bootstrapMeanInterval, fisherExact, summarize } from './blind/stats.ts';
export { type Role, type TrialRow, BlindStore } from './blind/store.ts';
export { type OperatorView, operatorView, startBlindApi } from './blind/api.ts';
