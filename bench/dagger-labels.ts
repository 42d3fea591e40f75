/**
 * How a DAgger relabelling labels the gripper where a trained policy has closed it: a run drives
 * the robot on a suite (execution noise as the ladder records: 0.008 m), and at every state where
 * the gripper is closed the phase-following expert (env.expertAction(true)) and the same plan
 * without phases (the expert as it was before: its own schedule, re-based on the TCP) each label
 * it. Frames are classed by what is in the fingers: the task's target, another cube, nothing.
 *
 *   node bench/dagger-labels.ts RUN [suite=spatial] [episodes per task=3]
 */
import { localPolicy } from '../src/cli/eval.ts';
import { executionNoise } from '../src/cli/record.ts';
import { chooseEngine } from '../src/engine/index.ts';
import { runEpisode } from '../src/eval/index.ts';
import { initBackend } from '../src/model/index.ts';
import { allTasks, createEnv } from '../src/sim/index.ts';
import { Expert } from '../src/sim/expert.ts';
import { loadPolicyParts } from '../src/training/index.ts';

const [run, suite = 'spatial', perTask = '3'] = process.argv.slice(2);
if (!run) throw new Error('usage: node bench/dagger-labels.ts RUN [suite] [episodes per task]');
await initBackend();
const { engine } = await chooseEngine(undefined);
const parts = loadPolicyParts(run, { embodiment: 'panda7' });
const SEED = 3000; // the ladder's relabelling seeds
/** class -> closed-gripper frames, labelled "open" with phases, without */
const tally = new Map<string, [number, number, number]>();
for (const task of allTasks().filter((t) => t.suite === suite)) {
  const env = await createEnv({ robot: 'panda7', task: task.name, imageSize: parts.config.imageSize });
  const policy = localPolicy(parts, { seed: SEED, engine })(env.embodiment.spec.cameras.map((c) => c.name), parts.config.imageSize);
  for (let k = 0; k < Number(perTask); k++) {
    let unphased: Expert | undefined;
    const noise = executionNoise(0.008, SEED + k, [0, 1, 2]);
    await runEpisode(env, policy, {
      seed: SEED + k,
      executeSteps: parts.meta.executeSteps,
      beforeAction: (_, executed, t) => {
        const w = env.world;
        unphased ??= new Expert(w, task.plan().map(({ phase: _phase, ...wp }) => wp));
        unphased.resync(w);
        const old = unphased.nextAction(w);
        const label = env.expertAction(true);
        const opening = w.gripperOpening(0);
        if (opening < 0.7) {
          const tcp = w.tcpPose(0).p;
          const near = (n: string) => {
            const o = w.objectPose(n).p;
            return Math.hypot(o[0] - tcp[0], o[1] - tcp[1], o[2] - tcp[2]) < 0.045;
          };
          const target = task.target?.(w);
          const cubes = task.objects.filter((o) => o.kind === 'cube').map((o) => o.name);
          const what = opening < 0.05 ? 'nothing (closed on air)' : target && near(target) ? 'the target' : cubes.some(near) ? 'another cube' : 'nothing near';
          const c = tally.get(what) ?? [0, 0, 0];
          tally.set(what, [c[0] + 1, c[1] + Number(label[label.length - 1] > 0.5), c[2] + Number(old[old.length - 1] > 0.5)]);
        }
        noise(t, executed);
      },
    });
  }
  env.close();
}
console.log(`${run} on ${suite}, ${perTask} episodes per task (seeds ${SEED}+): closed-gripper frames labelled "open"`);
console.log('in the fingers | frames | phase-following expert | without phases');
for (const [what, [n, a, b]] of tally) console.log(`${what} | ${n} | ${a} (${(100 * a / n).toFixed(1)}%) | ${b} (${(100 * b / n).toFixed(1)}%)`);
