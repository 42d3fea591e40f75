/**
 * What the failure diagnosis adds to a control step: the scripted expert runs 30 episodes of a task;
 * each env.step is timed (it updates its own GraspLog), and a second GraspLog update per step alone.
 *
 *   node bench/grasp-log-cost.ts [task=object-red-plate]
 */
import { createEnv } from '../src/sim/index.ts';
import { GraspLog } from '../src/sim/diagnosis.ts';
const env = await createEnv({ robot: 'panda7', task: process.argv[2] ?? 'object-red-plate' });
const log = new GraspLog(env.task.objects.filter((o) => o.kind === 'cube').map((o) => o.name));
let stepMs = 0, logMs = 0, steps = 0;
for (let seed = 0; seed < 30; seed++) {
  env.reset(seed);
  log.reset(env.world);
  for (;;) {
    const a = env.expertAction();
    let t = performance.now();
    const r = env.step(a);
    stepMs += performance.now() - t;
    t = performance.now();
    log.update(env.world, false);
    logMs += performance.now() - t;
    steps++;
    if (r.done) break;
  }
}
console.log(`${steps} steps: env.step ${(1000 * stepMs / steps).toFixed(1)} us/step (includes its own GraspLog update), a GraspLog update alone ${(1000 * logMs / steps).toFixed(1)} us/step (${(100 * logMs / stepMs).toFixed(2)}%)`);
env.close();
