/**
 * `vlalab eval --aim-probe`: where a policy's aim head points before each evaluation episode (the
 * same seeds, so the same layouts), paired with where the arm then went. The head reads the
 * semantic expert's prefix, so a head that points at the named object while the arm takes another
 * says the prefix localizes it and the action expert does not follow; a head that points elsewhere
 * says the prefix itself does not tell the named object from the others.
 */
import { wilsonInterval, type TaskEvaluation } from '../eval/index.ts';
import { imageKeysFor, makeModelPolicy, makeObservation, squareFrames } from '../serving/index.ts';
import { carriedObjects, createEnv, type FailureMode, pickedObject } from '../sim/index.ts';
import type { PolicyParts } from '../training/index.ts';
import { ProgressBar } from '../util/index.ts';

/** Where the aim head pointed at the start of one episode. */
export type AimProbe = {
  task: string;
  seed: number;
  /** the carried object nearest the head's point */
  object: string;
  /** whether that is the object the task needs next */
  target: boolean;
  /** distance (m) from the head's point to the target object's centre */
  errorM: number;
};

/**
 * The aim head's point at the first observation of each episode (seeds seed, seed + 1, ... per
 * task, as `evaluateInSim` runs them), and the carried object nearest it (world frame). Tasks that do
 * not name an object to carry are skipped.
 */
export async function probeAim(parts: PolicyParts, o: { tasks: readonly string[]; episodes: number; seed: number; quiet?: boolean }): Promise<AimProbe[]> {
  const out: AimProbe[] = [];
  const size = parts.config.imageSize;
  const bar = new ProgressBar('aim probe', o.tasks.length * o.episodes, { quiet: o.quiet });
  let done = 0;
  for (const task of o.tasks) {
    const env = await createEnv({ robot: parts.embodiment.name, task, imageSize: size });
    const cameras = env.embodiment.spec.cameras.map((c) => c.name);
    const policy = makeModelPolicy({ ...parts, imageKeys: imageKeysFor(cameras) });
    const objects = carriedObjects(env.task);
    try {
      for (let k = 0; k < o.episodes; k++) {
        const seed = o.seed + k;
        const obs = env.reset(seed);
        const target = env.task.target?.(env.world);
        bar.update(++done, task);
        if (target === undefined || !objects.length) continue;
        const point = await policy.aim(makeObservation({ images: squareFrames(cameras, obs.images, size), state: obs.state, prompt: obs.instruction }));
        const distance = (name: string) => {
          const p = env.world.objectPose(name).p;
          return Math.hypot(p[0] - point[0], p[1] - point[1], p[2] - point[2]);
        };
        const nearest = objects.reduce((a, b) => (distance(b) < distance(a) ? b : a));
        out.push({ task, seed, object: nearest, target: nearest === target, errorM: distance(target) });
      }
    } finally {
      env.close();
    }
  }
  bar.done();
  return out;
}

/**
 * The probe in two lines: how often the head pointed at the target (Wilson 95%) and its median
 * distance from it, then how often the arm went for the target when the head did and when it did not
 * (episodes where the arm went for an object, sim pickedObject).
 */
export function aimSummary(rows: TaskEvaluation[], probes: readonly AimProbe[]): string {
  if (!probes.length) return 'aim probe: no task names an object to carry';
  const pct = (k: number, n: number) => `${n ? ((100 * k) / n).toFixed(0) : '-'}%`;
  const hit = probes.filter((p) => p.target).length;
  const [lo, hi] = wilsonInterval(hit, probes.length);
  const errors = probes.map((p) => p.errorM).sort((a, b) => a - b);
  const median = errors[Math.floor(errors.length / 2)];
  const outcome = new Map(rows.flatMap((r) => r.episodes.map((e) => [`${r.task}:${e.seed}`, pickedObject(e.success, e.failure as FailureMode | undefined)] as const)));
  const followed = (aimed: boolean) => {
    const went = probes.filter((p) => p.target === aimed).map((p) => outcome.get(`${p.task}:${p.seed}`)).filter((w) => w !== undefined);
    const k = went.filter((w) => w === 'target').length;
    return `${k} of ${went.length} (${pct(k, went.length)})`;
  };
  return [
    `aim probe: the head pointed at the target in ${hit} of ${probes.length} episodes (${pct(hit, probes.length)}, 95% CI ${pct(lo, 1)}-${pct(hi, 1)}), median ${(100 * median).toFixed(1)} cm from it`,
    `  the arm then went for the target in ${followed(true)} episodes where the head pointed at it, ${followed(false)} where it pointed at another object`,
  ].join('\n');
}
