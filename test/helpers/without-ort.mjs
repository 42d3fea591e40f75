// Loaded with `node --import`: makes `onnxruntime-node` fail to load, as on a platform without its
// native binary, so tests can check the fallback to the jax engine.
import { register } from 'node:module';

const hook = `export async function resolve(specifier, context, next) {
  if (specifier === 'onnxruntime-node') throw new Error('simulated: no onnxruntime-node binary for this platform');
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
