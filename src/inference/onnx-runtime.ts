import * as ort from 'onnxruntime-node';
import type { IoMeta } from './model-spec.js';
import type { SessionThreads } from './threads.js';

/** The only module that imports ONNX Runtime. */
export interface OnnxSession {
  inputs: readonly IoMeta[];
  outputs: readonly IoMeta[];
  /** Runs one batch; blocks the calling thread for the whole inference, so call it from a worker. */
  run(inputName: string, data: Float32Array, dims: readonly number[], outputName: string): Promise<Float32Array>;
  release(): Promise<void>;
}

const toIoMeta = (m: ort.InferenceSession.ValueMetadata): IoMeta =>
  m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: m.shape } : { name: m.name, isTensor: false };

export async function openOnnxSession(model: Uint8Array, threads: SessionThreads): Promise<OnnxSession> {
  const spin = threads.spinning === 'off' ? '0' : '1';
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    extra: {
      session: {
        intra_op: { allow_spinning: spin },
        inter_op: { allow_spinning: spin },
        force_spinning_stop: threads.spinning === 'during-runs' ? '1' : '0',
      },
    },
  });
  return {
    inputs: session.inputMetadata.map(toIoMeta),
    outputs: session.outputMetadata.map(toIoMeta),
    async run(inputName, data, dims, outputName) {
      const feeds = { [inputName]: new ort.Tensor('float32', data, dims) };
      const results = await session.run(feeds, [outputName]);
      const out = results[outputName];
      if (!out || out.type !== 'float32') throw new TypeError(`model returned no float32 output '${outputName}'`);
      return out.data as Float32Array;
    },
    release: () => session.release(),
  };
}
