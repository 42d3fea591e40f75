import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tree } from './backend.ts';
import { UserError } from '../util/index.ts';
import {
  CONFIGS, decodeSafetensors, encodeSafetensors, getConfig, initParams, loadCheckpoint, namedLeaves, paramCounts,
  saveCheckpoint, validateConfig,
} from './index.ts';

describe('safetensors', () => {
  it('round-trips F32 and I32 tensors with an 8-byte aligned header', () => {
    const bytes = encodeSafetensors([
      ['a.b', { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, -2.5, 3e-8, Math.PI, -0, 7]) }],
      ['c', { dtype: 'I32', shape: [1], data: new Int32Array([-42]) }],
    ], { format: 'test' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal((8 + n) % 8, 0);
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString());
    assert.deepEqual(header['a.b'], { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    const { tensors, metadata } = decodeSafetensors(bytes);
    assert.deepEqual(metadata, { format: 'test' });
    assert.deepEqual(Array.from(tensors.get('a.b')!.data), [1, -2.5, Math.fround(3e-8), Math.fround(Math.PI), -0, 7]);
    assert.deepEqual(Array.from(tensors.get('c')!.data), [-42]);
  });

  it('rejects truncated files with a clear error', () => {
    const bytes = encodeSafetensors([['x', { dtype: 'F32', shape: [4], data: new Float32Array(4) }]]);
    assert.throws(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4), 'w.safetensors'), /w.safetensors: tensor x has bad data_offsets/);
    assert.throws(() => decodeSafetensors(new Uint8Array(3)), UserError);
  });
});

describe('checkpoints', () => {
  for (const name of ['debug', 'debug-conv']) it(`save/load round trip is bit-exact, with config and tokenizer (${name})`, async () => {
    const c = getConfig(name);
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-ckpt-'));
    try {
      const params = initParams(c, 3);
      await saveCheckpoint(dir, c, params, { vocab: ['a', 'b'] });
      const loaded = loadCheckpoint(dir);
      assert.deepEqual(loaded.config, c);
      assert.deepEqual(loaded.tokenizer, { vocab: ['a', 'b'] });
      const a = namedLeaves(params);
      const b = namedLeaves(loaded.params);
      assert.deepEqual(a.map(([n]) => n), b.map(([n]) => n));
      assert.ok(a.some(([n]) => n === 'semantic.layers.0.attn.wq'));
      for (let i = 0; i < a.length; i++) {
        assert.deepEqual(Array.from(await b[i][1].ref.data()), Array.from(await a[i][1].ref.data()), a[i][0]);
      }
      tree.dispose([params, loaded.params]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the mismatch when a checkpoint does not fit its config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-ckpt-'));
    try {
      const params = initParams(getConfig('debug'), 0);
      await saveCheckpoint(dir, getConfig('debug'), params);
      tree.dispose(params);
      const wider = { ...getConfig('debug'), actionWidth: 48 };
      writeFileSync(join(dir, 'config.json'), JSON.stringify(wider));
      assert.throws(() => loadCheckpoint(dir), /action\.stateIn\.w has shape \[120,32\] but config "debug" expects \[120,48\]/);
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...getConfig('debug'), depth: 3 }));
      assert.throws(() => loadCheckpoint(dir), /missing \d+ parameter\(s\).*semantic\.layers\.2/);
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...getConfig('debug'), depht: 3 }));
      assert.throws(() => loadCheckpoint(dir), /config.json.*depht/);
      assert.throws(() => loadCheckpoint(join(dir, 'nope')), /not found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('configs', () => {
  it('suggests the closest name on a typo', () => {
    assert.throws(() => getConfig('tny'), /unknown model config "tny"; did you mean "tiny"\?/);
  });
  it('are all valid, with D_a < D_s', () => {
    for (const c of Object.values(CONFIGS)) {
      validateConfig(c);
      assert.ok(c.actionWidth < c.semanticWidth, c.name);
    }
    assert.throws(() => validateConfig({ ...getConfig('debug'), patchSize: 10 }), /not a multiple/);
  });
  it('paper shapes give a 2B-class semantic and ~0.7B action expert (analytic)', () => {
    const n = paramCounts(getConfig('paper'));
    assert.ok(n.semantic > 1.7e9 && n.semantic < 2.3e9, String(n.semantic));
    assert.ok(n.action > 0.65e9 && n.action < 0.75e9, String(n.action));
  });
  it('counts match the allocated debug parameters', () => {
    const c = getConfig('debug');
    const p = initParams(c, 0);
    const total = namedLeaves(p).reduce((s, [, a]) => s + a.size, 0);
    assert.equal(total, paramCounts(c).total);
    tree.dispose(p);
  });
});
