import { parentPort, workerData } from 'node:worker_threads';
import { decodePng } from '../src/image/decode-png.js';
import { loadModel } from '../src/inference/model-loader.js';
import type { SpecFallbacks } from '../src/inference/model-spec.js';
import { toProbabilities } from '../src/inference/postprocess.js';
import { preprocess, sampleLength } from '../src/preprocess/index.js';

/** The floor server's inference thread: decode → preprocess → run, one image at a time. */
const { modelPath, fallbacks } = workerData as { modelPath: string; fallbacks: SpecFallbacks };
const model = await loadModel(modelPath, fallbacks, { intraOpThreads: 2, spinning: 'during-runs' });
const { spec } = model;
const port = parentPort!;
port.postMessage({ ready: true });
port.on('message', (png: Uint8Array) => {
  void (async () => {
    const tensor = new Float32Array(sampleLength(spec));
    preprocess(await decodePng(png, { maxPixels: 40_000_000 }), spec, tensor, 0);
    const output = await model.session.run(spec.inputName, tensor, [1, 3, spec.height, spec.width], spec.outputName);
    port.postMessage({ probabilities: toProbabilities(output, 1, spec.outputKind)[0] });
  })();
});
