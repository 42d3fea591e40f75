/**
 * Does a policy follow the instruction? For a few seeded scenes of one task, the same observation is
 * given with each spatial-suite instruction (same sampling noise) and the end of the predicted
 * chunk's TCP position is printed beside where the objects are. A policy that ignores language
 * predicts the same target whatever the words.
 *
 *   node bench/instruction-probe.ts RUN_OR_CHECKPOINT [task=spatial-left-plate] [seeds=3]
 */
import { initBackend } from '../src/model/index.ts';
import { makeModelPolicy, makeObservation, squareFrames } from '../src/serving/index.ts';
import { allTasks, createEnv } from '../src/sim/index.ts';
import { loadPolicyParts } from '../src/training/index.ts';

const [ckpt, task = 'spatial-left-plate', seedsArg = '3'] = process.argv.slice(2);
if (!ckpt) throw new Error('usage: node bench/instruction-probe.ts RUN_OR_CHECKPOINT [task] [seeds]');
await initBackend();
const env = await createEnv({ robot: 'panda7', task });
const parts = loadPolicyParts(ckpt);
const cams = env.embodiment.spec.cameras.map((c) => c.name);
const instructions = allTasks().filter((t) => t.suite === 'spatial').slice(0, 4).map((t) => t.instruction);
const fmt = (v: ArrayLike<number>) => Array.from(v, (x) => x.toFixed(3)).join(', ');
for (let seed = 0; seed < Number(seedsArg); seed++) {
  const obs = env.reset(seed);
  const objects = env.task.objects.filter((o) => o.kind === 'cube').map((o) => `${o.name} (${fmt(env.world.objectPose(o.name).p)})`);
  console.log(`seed ${seed}: ${objects.join(', ')}; TCP (${fmt(env.world.tcpPose(0).p)})`);
  for (const instruction of instructions) {
    const policy = makeModelPolicy({ ...parts, seed: 7 });
    const out = await policy.infer(makeObservation({ images: squareFrames(cams, obs.images, env.imageSize), state: obs.state, prompt: instruction }));
    const [h, d] = out.shape;
    console.log(`  "${instruction}" -> chunk end (${fmt(out.actions.subarray((h - 1) * d, (h - 1) * d + 3))})`);
  }
}
env.close();
