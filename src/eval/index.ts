/** The evaluation layer: closed-loop rollouts in the simulator, intervals, (later) blind studies. */
export { type ChunkPolicy, type ClosedLoopEnv, type EpisodeResult, evaluationSeeds, runEpisode } from './closed-loop.ts';
export { wilsonInterval } from './intervals.ts';
export { type SimEvalOptions, type TaskEvaluation, evaluateInSim, imageKeysFor, simChunkPolicy, writeRecording } from './simulated.ts';
