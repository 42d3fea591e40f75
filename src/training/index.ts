/** The training layer. */
export { ADAMW_DEFAULTS, type AdamWConfig, type AdamWState, adamwInit, adamwStep } from './optimizer.ts';
export { type CosineSchedule, cosineLr } from './schedule.ts';
export { type TrainConfig, PRESET_NAMES, PRESETS, getPreset, resolveTrainConfig, trainConfigSchema } from './presets.ts';
export { type ConfigChange, configFileFields, diffTrainConfig } from './presets.ts';
export { type MetricsLine, RunDir, type RunConfig, type RunSource } from './run-state.ts';
export { type CheckpointRef, checkResume, CKPT_FILES, FIXED_ON_RESUME, initOptimizers, initTrainState, policyWeightsFile, resolveCheckpoint, restoreTrainState, RUN_FILES } from './run-state.ts';
export { type BatchSource, type CheckpointExtras, type Optimizers, type TrainResult, stageAt, train, trainStep, writeLossPlot } from './trainer.ts';
export { type PolicyMeta, type PolicyParts, POLICY_FILE, loadPolicyParts, policyMeta, readPolicyMeta } from './policy.ts';
export { jaxStepper, ortStepper, type Snapshot, type StepLayout, stepLayout, type Stepper, type StepperOptions, traceStepProgram, type TrainState } from './steppers.ts';
export { type PolicyEmbodiment, policyEmbodiments, selectEmbodiment } from './policy.ts';
