import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getConfig, initParams, type ModelConfig, syntheticBatch, decodeSafetensors } from '../model/index.ts';
import { emaInit } from './ema.ts';
import { ADAMW_DEFAULTS } from './optimizer.ts';
import { jaxStepper, ortStepper, type Stepper, stepLayout, traceStepProgram } from './steppers.ts';
import { initOptimizers } from './run-state.ts';
import { trainStep } from './trainer.ts';

const c = getConfig('debug');
const B = 8;
const optionsFor = (config: ModelConfig, smallLeaf?: number) => ({ config, opt: ADAMW_DEFAULTS, tau: 'uniform' as const, emaDecay: 0.99, smallLeaf });
const fresh = (config: ModelConfig) => {
  const params = initParams(config, 0);
  return { params, optimizers: initOptimizers(params), ema: emaInit(params) };
};
const both = async (config = c, smallLeaf?: number): Promise<[Stepper, Stepper]> => [await ortStepper(optionsFor(config, smallLeaf), fresh(config), 1), jaxStepper(optionsFor(config), fresh(config), trainStep)];
const tensors = (bytes: Uint8Array) => decodeSafetensors(bytes, 'snapshot').tensors;
const maxAbs = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
/** Asserts |got_i - want_i| <= tol(i) everywhere, naming the first element that is not. */
function within(what: string, got: Float32Array, want: Float32Array, tol: (i: number) => number): void {
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol(i))) assert.fail(`${what}[${i}]: ${got[i]} vs ${want[i]} (tolerance ${tol(i)})`);
  }
}

/** One step on both engines, compared: loss, gradient norm, every gradient (the first moment after one step is (1 - b1) g), the updated weights and EMA. */
async function compareOneStep(frozen: boolean, config = c, smallLeaf?: number) {
  const lr = 1e-4;
  const [ort, jax] = await both(config, smallLeaf);
  const batch = syntheticBatch(config, B, 1);
  const a = await ort.step(batch, 11, { frozen, lr, read: true });
  const b = await jax.step(batch, 11, { frozen, lr, read: true });
  assert.ok(Math.abs(a.loss - b.loss) <= 1e-4 * Math.abs(b.loss), `loss ${a.loss} vs ${b.loss}`);
  assert.ok(Math.abs(a.gradNorm - b.gradNorm) <= 1e-4 * b.gradNorm, `gradient norm ${a.gradNorm} vs ${b.gradNorm}`);
  // the aim error is reported where the head trains (a full step of a config with one), by both engines alike
  if (config.aimWeight && !frozen) assert.ok(Math.abs(a.aimLoss! - b.aimLoss!) <= 1e-4 * b.aimLoss!, `aim error ${a.aimLoss} vs ${b.aimLoss}`);
  else assert.deepEqual([a.aimLoss, b.aimLoss], [undefined, undefined]);
  const [sa, sb] = [await ort.snapshot('ema.safetensors'), await jax.snapshot('ema.safetensors')];
  assert.deepEqual(sa.optSteps, sb.optSteps);
  assert.deepEqual(Object.keys(sa.files).sort(), Object.keys(sb.files).sort());
  const mA = tensors(sa.files['adam-m.safetensors']);
  const mB = tensors(sb.files['adam-m.safetensors']);
  const pA = tensors(sa.files['model.safetensors']);
  const pB = tensors(sb.files['model.safetensors']);
  const eA = tensors(sa.files['ema.safetensors']);
  const eB = tensors(sb.files['ema.safetensors']);
  let trained = 0;
  for (const [name, t] of mB) {
    const g = t.data as Float32Array;
    const gA = mA.get(name)!.data as Float32Array;
    const gScale = maxAbs(g);
    if (gScale > 0) trained++;
    within(`gradient ${name}`, gA, g, () => 1e-4 * gScale);
    const p = pB.get(name)!.data as Float32Array;
    const pScale = maxAbs(p);
    // Adam's first step is lr * sign(g): where g is ~0 its sign is float noise, so only |update| <= lr holds there
    within(`updated ${name}`, pA.get(name)!.data as Float32Array, p, (i) => 1e-4 * pScale + (Math.abs(g[i]) > 1e-2 * gScale ? 0 : 2.5 * lr));
    const e = eB.get(name)!.data as Float32Array;
    const eScale = maxAbs(e);
    within(`EMA ${name}`, eA.get(name)!.data as Float32Array, e, () => 1e-4 * eScale + 0.03 * lr);
  }
  assert.ok(trained > 10, 'the step trained many tensors');
  await ort.release();
  await jax.release();
}

describe('the ort engine against the jax engine', () => {
  it('computes the same training step: loss, every gradient, the updated weights and EMA', async () => {
    await compareOneStep(false);
  });

  it('computes the same step whichever leaves share an exchanged array (several chunks, or every leaf alone)', async () => {
    const shapes = stepLayout(initParams(c, 0), 500).chunks.S;
    assert.ok(shapes.length > 2 && shapes[0].length > 1, `merged small leaves and lone large ones: ${JSON.stringify(shapes)}`);
    const inputs = async (smallLeaf?: number) => (await traceStepProgram(c, ADAMW_DEFAULTS, { frozen: false, ema: true }, stepLayout(initParams(c, 0), smallLeaf), syntheticBatch(c, B, 1))).inputs.length;
    assert.ok((await inputs(500)) > (await inputs()), 'the program exchanges one array per chunk');
    await compareOneStep(false, c, 500);
    await compareOneStep(true, c, 0);
  });

  it('computes the same step for a config with the convolutional image stem, at 96 px, and with the stem conditioned on the instruction (FiLM)', async () => {
    await compareOneStep(false, getConfig('debug-conv'));
    await compareOneStep(false, getConfig('debug-conv-96'));
    await compareOneStep(false, getConfig('debug-conv-film'));
  });

  it('computes the same step with the aim head (its loss added and trained; a frozen step leaves it, as the whole semantic expert, untouched), also beside FiLM and on an 8 x 8 token grid', async () => {
    await compareOneStep(false, getConfig('debug-conv-aim'));
    await compareOneStep(true, getConfig('debug-conv-aim'));
    await compareOneStep(false, getConfig('debug-conv-film-aim'));
    await compareOneStep(false, getConfig('debug-conv-8-aim'));
  });

  it('computes the same frozen step (semantic expert untouched, its moments not advanced)', async () => {
    await compareOneStep(true);
  });

  it('follows the same loss curve over 20 chained steps', async () => {
    const [ort, jax] = await both();
    for (let s = 0; s < 20; s++) {
      const batch = syntheticBatch(c, B, s);
      const a = await ort.step(batch, 100 + s, { frozen: s < 5, lr: 1e-3, read: true });
      const b = await jax.step(batch, 100 + s, { frozen: s < 5, lr: 1e-3, read: true });
      assert.ok(Math.abs(a.loss - b.loss) <= 1e-4 * Math.abs(b.loss), `step ${s}: loss ${a.loss} vs ${b.loss}`);
    }
    const p = ort.params();
    assert.equal(p.action.actionOut.w.shape.join(), jax.params().action.actionOut.w.shape.join());
    await ort.release();
    await jax.release();
  });
});
