/** The execution layer: jax-js programs lowered to ONNX and run on ONNX Runtime's native CPU kernels. */
export { type DType, encodeModel, type Initializer, type OnnxGraph, type OnnxNode, type ValueInfo } from './onnx.ts';
export { EngineError, LOWERED_PRIMITIVES, type LowerOptions, type LowerStats, lowerJaxpr } from './lower.ts';
export { type Program, type TraceOptions, traceProgram } from './trace.ts';
export { chooseEngine, type EngineName, ENGINES, type HostArray, loadOrt, type OrtValue, ortLabel, ortThreads, parseEngine, ProgramSession } from './runtime.ts';
