/**
 * Simulator throughput: control steps per second of one environment in one process, with every
 * camera of the robot rendered at 64x64 each step (physics substeps + IK + rasterizer), driven by
 * the scripted expert.
 *
 *   node bench/sim-steps.ts [robot=panda7] [task=pick-place] [steps=2000] [reps=5]
 *
 * Prints the median (min, max) over `reps` runs, and the time split of one run.
 */
import { createEnv } from '../src/sim/index.ts';

const [robot = 'panda7', task = 'pick-place', stepsArg = '2000', repsArg = '5'] = process.argv.slice(2);
const steps = Number(stepsArg);
const reps = Number(repsArg);
const env = await createEnv({ robot, task, imageSize: 64 });
const cameras = env.embodiment.spec.cameras.length;

function run(): number {
  let seed = 0;
  env.reset(seed);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const r = env.step(env.expertAction());
    if (r.done) env.reset(++seed);
  }
  return (steps * 1000) / (performance.now() - t0);
}

run(); // warm-up
const rates = Array.from({ length: reps }, run).sort((a, b) => a - b);
console.log(`${robot} ${task}: ${cameras} cameras at 64x64, ${steps} control steps x ${reps} runs`);
console.log(`control steps/s: median ${rates[reps >> 1].toFixed(0)} (min ${rates[0].toFixed(0)}, max ${rates[reps - 1].toFixed(0)})`);
env.close();
