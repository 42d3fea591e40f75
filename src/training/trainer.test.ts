import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeParams, decodeSafetensors, encodeParams, getConfig, initParams, namedLeaves, syntheticBatch, tree } from '../model/index.ts';
import { resolveTrainConfig } from './presets.ts';
import { CKPT_FILES, policyWeightsFile, RunDir } from './run-state.ts';
import { stageAt, train, type BatchSource } from './trainer.ts';

const model = getConfig('debug');
/** A fixed set of 4 synthetic batches, cycled: deterministic in the step. */
const data: BatchSource = { batchAt: async (step) => syntheticBatch(model, 4, step % 4) };

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'vlalab-train-'));
}

describe('trainer', () => {
  for (const engine of ['ort', 'jax'] as const) it(`resume after a kill reproduces the uninterrupted loss curve exactly (${engine} engine)`, async () => {
    const cfg = resolveTrainConfig('debug', { steps: 8, batchSize: 4, checkpointEvery: 2, logEvery: 1 });
    const a = tmp();
    const b = tmp();
    try {
      const full = await train({ config: cfg, data, run: new RunDir(a), quiet: true, engine });
      tree.dispose(full.params);
      const killed = await train({ config: cfg, data, run: new RunDir(b), quiet: true, stopAt: 5, engine }); // last checkpoint at 4
      tree.dispose(killed.params);
      const resumed = await train({ config: cfg, data, run: new RunDir(b), quiet: true, resume: true, engine });
      tree.dispose(resumed.params);
      const la = new RunDir(a).readMetrics().map((m) => [m.step, m.loss, m.gradNorm]);
      const lb = new RunDir(b).readMetrics().map((m) => [m.step, m.loss, m.gradNorm]);
      assert.equal(la.length, 8);
      assert.deepEqual(lb, la);
      const wa = readFileSync(join(new RunDir(a).latest()!.dir, 'model.safetensors'));
      const wb = readFileSync(join(new RunDir(b).latest()!.dir, 'model.safetensors'));
      assert.ok(wa.equals(wb), 'final weights differ');
      assert.ok(existsSync(join(a, 'loss.svg')));
      await assert.rejects(train({ config: cfg, data, run: new RunDir(a), quiet: true }), /already holds a run.*--resume/);
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  });

  it('a checkpoint written by one engine resumes on the other (the same files)', async () => {
    const cfg = resolveTrainConfig('debug', { steps: 6, batchSize: 4, checkpointEvery: 3, logEvery: 1 });
    const a = tmp();
    const b = tmp();
    try {
      tree.dispose((await train({ config: cfg, data, run: new RunDir(a), quiet: true, engine: 'ort' })).params);
      tree.dispose((await train({ config: cfg, data, run: new RunDir(b), quiet: true, stopAt: 3, engine: 'ort' })).params);
      tree.dispose((await train({ config: cfg, data, run: new RunDir(b), quiet: true, resume: true, engine: 'jax' })).params);
      const la = new RunDir(a).readMetrics();
      const lb = new RunDir(b).readMetrics();
      assert.equal(lb.length, 6);
      for (let i = 0; i < 6; i++) assert.ok(Math.abs(la[i].loss - lb[i].loss) <= 1e-3 * la[i].loss, `step ${i + 1}: ${la[i].loss} vs ${lb[i].loss}`);
      const names = (dir: string) => [...decodeSafetensors(readFileSync(join(new RunDir(dir).latest()!.dir, 'model.safetensors')), dir).tensors.keys()];
      assert.deepEqual(names(b), names(a), 'the same tensors in the same order');
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  });

  it('keeps an exponential moving average of the weights and resumes it exactly', async () => {
    const cfg = resolveTrainConfig('debug', { steps: 6, batchSize: 4, checkpointEvery: 3, logEvery: 1, emaDecay: 0.5 });
    const a = tmp();
    const b = tmp();
    try {
      tree.dispose((await train({ config: cfg, data, run: new RunDir(a), quiet: true })).params);
      tree.dispose((await train({ config: cfg, data, run: new RunDir(b), quiet: true, stopAt: 4 })).params);
      tree.dispose((await train({ config: cfg, data, run: new RunDir(b), quiet: true, resume: true })).params);
      const file = (dir: string, name: string) => readFileSync(join(new RunDir(dir).latest()!.dir, name));
      assert.ok(file(a, 'ema.safetensors').equals(file(b, 'ema.safetensors')), 'resumed EMA differs');
      assert.match(policyWeightsFile(a), /ema\.safetensors$/, 'fine-tuning starts from the weights the policy acts with');
      // after 6 steps at decay 0.5 the average sits between the initial and the final weights
      const w = (bytes: Buffer) => namedLeaves(decodeParams(model, bytes)).find(([n]) => n === 'action.actionOut.w')![1];
      const init = namedLeaves((await import('../model/index.ts')).initParams(model, cfg.seed)).find(([n]) => n === 'action.actionOut.w')![1];
      const [e, p, i] = await Promise.all([w(file(a, 'ema.safetensors')).data(), w(file(a, 'model.safetensors')).data(), init.data()]);
      let between = 0;
      for (let k = 0; k < e.length; k++) if (Math.min(p[k], i[k]) - 1e-7 <= e[k] && e[k] <= Math.max(p[k], i[k]) + 1e-7) between++;
      assert.ok(between / e.length > 0.9, `${between} of ${e.length}`);
      assert.notDeepEqual(Array.from(e), Array.from(p));
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  });

  it('stage 1 leaves the semantic expert untouched and stage 2 trains it', async () => {
    const cfg = resolveTrainConfig('debug', { steps: 4, batchSize: 4, curriculum: 'two-stage', stage1Fraction: 0.5, checkpointEvery: 2, logEvery: 1 });
    assert.deepEqual([0, 1, 2, 3].map((s) => stageAt(cfg, s).stage), [1, 1, 2, 2]);
    const dir = tmp();
    try {
      const r = await train({ config: cfg, data, run: new RunDir(dir), quiet: true });
      tree.dispose(r.params);
      const init = (await import('../model/index.ts')).initParams(model, cfg.seed);
      const read = (step: number) => decodeParams(model, readFileSync(join(dir, `checkpoints/step-${String(step).padStart(6, '0')}`, 'model.safetensors')));
      const after1 = read(2);
      const after2 = read(4);
      const leaf = async (p: typeof init, name: string) => Array.from(await namedLeaves(p).find(([n]) => n === name)![1].ref.data());
      const s0 = await leaf(init, 'semantic.layers.0.attn.wq');
      assert.deepEqual(await leaf(after1, 'semantic.layers.0.attn.wq'), s0, 'stage 1 changed the semantic expert');
      assert.notDeepEqual(await leaf(after2, 'semantic.layers.0.attn.wq'), s0, 'stage 2 did not train the semantic expert');
      assert.notDeepEqual(await leaf(after1, 'action.layers.0.attn.wq'), await leaf(init, 'action.layers.0.attn.wq'), 'stage 1 did not train the action expert');
      tree.dispose([init, after1, after2]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fine-tunes from a pretrained run with the semantic expert frozen or not', async () => {
    const pre = tmp();
    const frozen = tmp();
    const open = tmp();
    const leaf = async (bytes: Buffer, name: string) => Float32Array.from(await namedLeaves(decodeParams(model, bytes)).find(([n]) => n === name)![1].data());
    const weights = (dir: string) => readFileSync(join(new RunDir(dir).latest()!.dir, 'model.safetensors'));
    /** largest |a - b| over the elements */
    const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, k) => Math.max(m, Math.abs(x - b[k])), 0);
    try {
      // pretraining moves the weights far (lr 1e-2); one fine-tuning step at lr 1e-4 moves each weight by at most ~lr
      const preConfig = resolveTrainConfig('debug', { steps: 4, batchSize: 4, lr: 1e-2, warmupRatio: 0, checkpointEvery: 4 });
      tree.dispose((await train({ config: preConfig, data, run: new RunDir(pre), quiet: true })).params);
      const tune = (freezeSemantic: boolean) => resolveTrainConfig('debug', { steps: 1, batchSize: 4, lr: 1e-4, warmupRatio: 0, freezeSemantic, checkpointEvery: 1, seed: 3 });
      tree.dispose((await train({ config: tune(true), data, run: new RunDir(frozen), quiet: true, initFrom: pre })).params);
      tree.dispose((await train({ config: tune(false), data, run: new RunDir(open), quiet: true, initFrom: pre })).params);
      const fresh = initParams(model, preConfig.seed); // the pretraining's own starting point
      const init = await encodeParams(model, fresh);
      tree.dispose(fresh);
      assert.match(policyWeightsFile(pre), /model\.safetensors$/, 'a run without an EMA starts from its trained weights');
      for (const name of ['semantic.layers.0.attn.wq', 'action.layers.0.attn.wq']) {
        const [p, f, o, i] = await Promise.all([weights(pre), weights(frozen), weights(open), Buffer.from(init)].map((b) => leaf(b, name)));
        assert.ok(maxDiff(p, i) > 1e-2, `${name}: pretraining did not move the weights`);
        assert.ok(maxDiff(o, p) < 5e-4 && maxDiff(o, p) > 0, `${name}: unfrozen fine-tuning did not start from the pretrained weights and train them`);
        if (name.startsWith('semantic')) assert.equal(maxDiff(f, p), 0, 'the frozen semantic expert changed');
        else assert.ok(maxDiff(f, p) < 5e-4 && maxDiff(f, p) > 0, 'the action expert was not fine-tuned from the pretrained weights');
      }
      assert.throws(() => policyWeightsFile(tmpdir()), /neither a training run.*nor a checkpoint/);
    } finally {
      for (const d of [pre, frozen, open]) rmSync(d, { recursive: true, force: true });
    }
  });

  it('a resumed run refuses a changed config field by field unless extended, and then follows the new schedule', async () => {
    const cfg = resolveTrainConfig('debug', { steps: 4, batchSize: 4, checkpointEvery: 2, logEvery: 1 });
    const dir = tmp();
    try {
      tree.dispose((await train({ config: cfg, data, run: new RunDir(dir), quiet: true, stopAt: 2 })).params);
      const longer = resolveTrainConfig('debug', { ...cfg, steps: 6 });
      await assert.rejects(train({ config: longer, data, run: new RunDir(dir), quiet: true, resume: true }), /--resume: the flags change the run's config .*: steps 4 -> 6; .*--extend/);
      assert.equal(new RunDir(dir).readConfig()!.train.steps, 4, 'a refused resume leaves config.json as it was');
      await assert.rejects(train({ config: resolveTrainConfig('debug', { ...longer, emaDecay: 0.5 }), data, run: new RunDir(dir), quiet: true, resume: true, extend: true }), /--extend cannot change emaDecay/);
      tree.dispose((await train({ config: longer, data, run: new RunDir(dir), quiet: true, resume: true, extend: true })).params);
      const run = new RunDir(dir);
      assert.equal(run.readConfig()!.train.steps, 6, 'config.json holds the extended run');
      const lines = run.readMetrics();
      assert.deepEqual(lines.map((m) => m.step), [1, 2, 3, 4, 5, 6]);
      assert.equal(lines[2].lr, stageAt(longer, 2).lr, 'step 3 uses the 6-step schedule');
      assert.notEqual(stageAt(longer, 2).lr, stageAt(cfg, 2).lr);
      assert.deepEqual(readdirSync(run.latest()!.dir).sort(), [CKPT_FILES.adamM, CKPT_FILES.adamV, CKPT_FILES.modelConfig, CKPT_FILES.weights, CKPT_FILES.trainer].sort(), 'a checkpoint holds the files of the table');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('schedules warmup and cosine decay per stage', () => {
    const cfg = resolveTrainConfig('debug', { steps: 200, curriculum: 'two-stage', stage1Fraction: 0.5, warmupRatio: 0.1, lr: 2e-5, stage1Lr: 1e-4 });
    assert.ok(stageAt(cfg, 0).lr < 1e-4 / 5);
    assert.ok(Math.abs(stageAt(cfg, 10).lr - 1e-4) < 1e-9);
    assert.equal(stageAt(cfg, 99).stage, 1);
    assert.equal(stageAt(cfg, 100).stage, 2);
    assert.ok(Math.abs(stageAt(cfg, 110).lr - 2e-5) < 1e-12);
    assert.ok(stageAt(cfg, 199).lr < 1e-6);
    assert.equal(stageAt(resolveTrainConfig('debug', { freezeSemantic: true }), 20).frozen, true);
  });
});
