export { type Env, type EnvOptions, type SimObservation, type StepResult, createEnv } from './env.ts';
export { type Frame, Rasterizer } from './render.ts';
export { type FixedCamera, type RobotSpec, getRobot, robotNames } from './robots.ts';
export { type Placement, type TaskSpec } from './tasks.ts';
export { allTasks, getTask, suiteNames } from './catalog.ts';
export { PRETRAIN_SUITE } from './pretrain-tasks.ts';
export { CONTROL_DT, DOMAINS, type Domain, PHYSICS_DT } from './scene.ts';
export { World } from './world.ts';
export { mujoco } from './mujoco.ts';
