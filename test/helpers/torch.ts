/**
 * Helpers for the tests that drive vlalab's PyTorch twin (python/vlalab_torch) with Debian's
 * python3-torch: where it is, whether it imports, and the flow noise vlalab draws for a batch.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { drawNoise, type ModelConfig, type TauDistribution, random } from '../../src/model/index.ts';

/** Debian's interpreter (python3 on PATH may be another one without torch). */
export const PYTHON = '/usr/bin/python3';
/** The folder to put on PYTHONPATH for `import vlalab_torch`. */
export const PYTHON_DIR = join(import.meta.dirname, '..', '..', 'python');
/** The install line that makes these tests run (as in .ci/run). */
export const TORCH_INSTALL = 'apt-get install -y python3-torch libopenblas0-pthread python3-numpy';

/** Why the torch tests cannot run here (undefined when `import torch, numpy` works). */
export function torchMissing(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} not found`;
  if (r.status !== 0) return r.stderr.trim().split('\n').at(-1);
  return undefined;
}

/** Environment for a child Python: the package on the path, one BLAS thread (the machine is shared). */
export function pythonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONPATH: PYTHON_DIR, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', OMP_WAIT_POLICY: 'PASSIVE', ...extra };
}

/** The noise x0 [B, H, A] and flow times tau [B] that `lossAndGrad(c, params, batch, random.key(seed))` draws. */
export async function flowDraws(c: ModelConfig, batch: number, seed: number, dist: TauDistribution = c.tauDistribution): Promise<{ x0: Float32Array; tau: Float32Array }> {
  return drawNoise(c, batch, dist, random.key(seed));
}
