import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose } from '../../test/helpers/close.ts';
import { getConfig, initBackend, initParams, syntheticBatch, tree } from '../model/index.ts';
import { createSampler, requestNoise } from './sampler.ts';

test('noiseScale scales the noise chunks are sampled from, alike on both engines', async () => {
  await initBackend();
  const c = getConfig('debug');
  const params = initParams(c, 0);
  const obs = syntheticBatch(c, 1, 3);
  try {
    const half = await requestNoise(c, 1, 7, 0.5);
    const full = await requestNoise(c, 1, 7);
    assertClose(half, full.map((x) => x / 2), 1e-7);
    const ort = await createSampler(c, params, { engine: 'ort', noiseScale: 0 });
    const jax = await createSampler(c, params, { engine: 'jax', noiseScale: 0 });
    const plain = await createSampler(c, params, { engine: 'ort' });
    try {
      const a = await ort.sample(obs, 1);
      // no noise: every seed gives the one chunk the flow carries the origin to, on either engine
      assertClose(await ort.sample(obs, 2), a, 1e-7);
      assertClose(await jax.sample(obs, 5), a, 1e-4);
      assert.notDeepEqual(await plain.sample(obs, 1), await plain.sample(obs, 2), 'with the noise as trained, seeds differ');
    } finally {
      await Promise.all([ort.release(), jax.release(), plain.release()]);
    }
  } finally {
    tree.dispose(params);
  }
});
