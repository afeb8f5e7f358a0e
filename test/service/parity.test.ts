import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { inspectPng } from '../../src/image/decode-png.js';
import { type Classifier, startClassifier } from '../../src/inference/classifier.js';
import { classifierOptions } from '../../src/server.js';
import { DEFAULT_MODEL } from '../helpers/paths.js';

/*
 * Training/serving parity: PyTorch's probabilities (training/make_parity_fixtures.py, through
 * training/leakwatch_preprocess.py) against the service's own decode → preprocess → ONNX Runtime
 * (the inference worker's, the path an upload takes).
 */
const dir = new URL('../fixtures/parity/', import.meta.url);
interface Fixture {
  probs: [number, number];
  width: number;
  height: number;
  colour_type: string;
}
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as Record<string, Fixture>;

const AT_INPUT_SIZE = 1e-4;
const RESIZED = 0.02;

describe('training/serving parity on the default model', () => {
  let classifier: Classifier;
  before(async () => {
    classifier = await startClassifier(classifierOptions(loadConfig({}, { MODEL_PATH: DEFAULT_MODEL })));
  });
  after(() => classifier.close());

  it('covers every size and PNG colour type the generator makes', () => {
    const sizes = new Set(Object.values(expected).map((f) => `${f.width}x${f.height}`));
    for (const s of ['160x120', '224x224', '320x240', '640x480', '640x512']) assert.ok(sizes.has(s), s);
    const types = new Set(Object.values(expected).map((f) => f.colour_type));
    assert.ok(types.size >= 5, [...types].join(','));
    assert.ok(Object.keys(expected).length >= 20);
  });

  it('matches PyTorch within 1e-4 at the input size and 0.02 when resized', async () => {
    const deltas: { file: string; delta: number; resized: boolean }[] = [];
    for (const [file, want] of Object.entries(expected)) {
      const bytes = readFileSync(fileURLToPath(new URL(file, dir)));
      const image = inspectPng(bytes, { maxPixels: 40_000_000 });
      assert.deepEqual([image.header.width, image.header.height], [want.width, want.height], file);
      const [pNormal, pLeak] = await classifier.classify(image);
      const delta = Math.max(Math.abs(pNormal - want.probs[0]), Math.abs(pLeak - want.probs[1]));
      const resized = want.width !== 224 || want.height !== 224;
      deltas.push({ file, delta, resized });
      assert.ok(delta <= (resized ? RESIZED : AT_INPUT_SIZE), `${file}: |Δ| = ${delta}`);
    }
    const worst = (resized: boolean) => Math.max(...deltas.filter((d) => d.resized === resized).map((d) => d.delta));
    // Reported in the test output, for the model card and the closing note.
    console.log(`parity: worst |Δ| at input size ${worst(false).toExponential(2)}, resized ${worst(true).toExponential(2)} over ${deltas.length} images`);
  });
});
