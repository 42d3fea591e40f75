/** The evaluation layer: closed-loop rollouts in the simulator, intervals, Grouped Blind Ensemble studies (blind/). */
export { type ChunkPolicy, type ClosedLoopEnv, type EpisodeOptions, type EpisodeResult, evaluationSeeds, runEpisode } from './closed-loop.ts';
export { ensembled } from './ensemble.ts';
export { wilsonInterval } from './intervals.ts';
export { type SimEvalOptions, type TaskEvaluation, evaluateInSim, simChunkPolicy, writeRecording } from './simulated.ts';
export { type ServerRobotOptions, serverChunkPolicy, serverReason } from './robot-client.ts';
export { type StudyDefinition, type TaskDefinition, maxPoints, parseStudy, STUDY_TEMPLATE, studySchema } from './blind/study.ts';
export { type Block, type StudyPlan, planStudy } from './blind/protocol.ts';
export { type CellResult, type TrialOutcome, bootstrapDifferenceInterval, bootstrapMeanInterval, fisherExact, summarize } from './blind/stats.ts';
export { type Role, type StudyState, type TrialRow, type TrialStatus, BlindStore } from './blind/store.ts';
export { type BlindApiOptions, type JudgeView, type OperatorView, judgeView, operatorView, startBlindApi } from './blind/api.ts';
export { type DispatcherOptions, type RunningDispatcher, DISPATCHER_METADATA, startDispatcher } from './blind/dispatcher.ts';
export { frameCount, recordsDirOf } from './blind/records.ts';
export { type TrialExport, resultsChartSvg, studyExport, toCsv, trialExport } from './blind/report.ts';
export { type SimModels, SIM_TASKS, SimOracle, lapseHazard, simModelName, simStudyDefinition, startSimModels } from './blind/sim-models.ts';
export { type DriveOptions, type SimulateOptions, type SimulateResult, ApiError, SIM_ROBOT, driveStudy, simulateStudy } from './blind/simulate.ts';
export { type OperatorChoice, type OperatorPolicy, type OperatorSight, episodeSeed, MAX_ATTEMPTS } from './blind/simulate.ts';
export { type BiasCondition, type BiasConditionResult, type BiasOptions, type BiasResult, type BlindLeniency, type LeniencyCount, BIAS_CONDITIONS, biasEstimates, biasTable, favouringOperator, runBiasExperiment } from './blind/bias.ts';
