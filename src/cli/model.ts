import { type Config, specFallbacks } from '../config.js';
import { loadModel } from '../inference/model-loader.js';
import { fail } from './options.js';
import { oneLine } from './one-line.js';

/** Prints, as JSON, everything the service reads from a model. */
export async function runModel(config: Config): Promise<void> {
  let model;
  try {
    model = await loadModel(config.modelPath, specFallbacks(config), { intraOpThreads: 1, spinning: 'off' });
  } catch (err) {
    fail(oneLine(err, config));
  }
  const { spec } = model;
  const report = {
    path: model.path,
    sha256: model.sha256,
    size_bytes: model.sizeBytes,
    inputs: model.session.inputs,
    outputs: model.session.outputs,
    input: { name: spec.inputName, layout: spec.layout, height: spec.height, width: spec.width, batch: spec.fixedBatch ?? 'dynamic' },
    output: { name: spec.outputName, kind: spec.outputKind },
    labels: spec.labels,
    leak_label: spec.labels[1],
    normalization: { mean: spec.mean, std: spec.std },
    source: spec.source,
    metadata: model.metadata,
  };
  await model.session.release();
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}
