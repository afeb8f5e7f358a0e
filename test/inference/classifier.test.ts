import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, it } from 'node:test';
import { type ClassifierOptions, InferenceError, startClassifier } from '../../src/inference/classifier.js';
import { SPINNING } from '../../src/inference/threads.js';
import { DecodeError, type InspectedPng, inspectPng } from '../../src/image/decode-png.js';
import { encodePng } from '../../src/synth/png-encode.js';
import { DEFAULT_MODEL, fixtureModel } from '../helpers/paths.js';

interface Expected {
  tolerance: number;
  models: Record<string, { results: Record<string, { leakProbability: number }> }>;
}
const expected = JSON.parse(readFileSync(fixtureModel('expected.json'), 'utf8')) as Expected;

const FALLBACKS = { labels: ['Normal', 'Leak'] as const, mean: [0.485, 0.456, 0.406] as const, std: [0.229, 0.224, 0.225] as const };
const options = (model: string, extra: Partial<ClassifierOptions> = {}): ClassifierOptions => ({
  modelPath: fixtureModel(model), fallbacks: FALLBACKS, workers: 1, intraOpThreads: 1, spinning: 'during-runs', nice: 0, maxBatch: 4, ...extra,
});

const LIMITS = { maxPixels: 10_000_000 };

/** A one-colour RGB PNG, as classify takes it: inspected, not decoded (the worker decodes). */
function solid(width: number, height: number, rgb: [number, number, number]): InspectedPng {
  const samples = new Uint8Array(width * height * 3);
  for (let i = 0; i < samples.length; i++) samples[i] = rgb[i % 3]!;
  return inspectPng(encodePng({ width, height, colour: { type: 'rgb', depth: 8 }, samples }), LIMITS);
}

const RED = solid(32, 32, [255, 0, 0]);

describe('classifier', () => {
  for (const model of ['tiny-logits2.onnx', 'tiny-softmax2.onnx', 'tiny-nhwc.onnx', 'tiny-sigmoid1.onnx', 'tiny-logit1.onnx', 'tiny-fixed-batch.onnx']) {
    it(`${model}: reads layout and output convention from the model and matches PyTorch`, async (t) => {
      const classifier = await startClassifier(options(model));
      t.after(() => classifier.close());
      const [pNormal, pLeak] = await classifier.classify(RED);
      const want = expected.models[model]?.results.red?.leakProbability;
      assert.ok(want !== undefined, `expected.json has ${model}`);
      assert.ok(Math.abs(pLeak - want) <= expected.tolerance, `${pLeak} vs ${want}`);
      assert.ok(Math.abs(pNormal + pLeak - 1) < 1e-6);
    });
  }

  it('resizes to the model\'s own input size, and falls back to configured labels when the model has none', async (t) => {
    const classifier = await startClassifier(options('tiny-nometa.onnx', { fallbacks: { ...FALLBACKS, labels: ['ok', 'leaking'] } }));
    t.after(() => classifier.close());
    assert.deepEqual([classifier.model.spec.height, classifier.model.spec.width], [64, 48]);
    assert.deepEqual(classifier.model.spec.labels, ['ok', 'leaking']);
    assert.equal(classifier.model.spec.source.labels, 'config');
    const p = await classifier.classify(solid(640, 480, [255, 0, 0]));
    assert.ok(p[1] > 0.5);
  });

  it('gives the same probabilities with 2 threads under every spinning policy as with 1 thread', async (t) => {
    const images = Array.from({ length: 6 }, (_, i) => solid(24 + i, 20, [(i * 41) % 256, (i * 97) % 256, (i * 13) % 256]));
    const single = await startClassifier(options('tiny-logits2.onnx'));
    t.after(() => single.close());
    const want = await Promise.all(images.map((image) => single.classify(image)));
    for (const spinning of SPINNING) {
      const classifier = await startClassifier(options('tiny-logits2.onnx', { intraOpThreads: 2, spinning }));
      t.after(() => classifier.close());
      const got = await Promise.all(images.map((image) => classifier.classify(image)));
      got.forEach((p, i) => assert.ok(Math.abs(p[1] - want[i]![1]) < 1e-6, `${spinning}, image ${i}: ${p[1]} vs ${want[i]![1]}`));
    }
  });

  it('runs the worker and the ONNX Runtime threads it creates at the configured nice value (Linux)', { skip: process.platform !== 'linux' }, async (t) => {
    const niceOf = () => readdirSync('/proc/self/task').map((tid) => {
      // Field 19 of stat is the nice value; the command name (field 2) may hold spaces, so count after its ')'.
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    });
    const before = niceOf().filter((n) => n === 7).length;
    const classifier = await startClassifier(options('tiny-logits2.onnx', { intraOpThreads: 2, nice: 7 }));
    t.after(() => classifier.close());
    await classifier.classify(RED);
    // The worker thread runs the session and one intra-op pool thread helps it: both at 7.
    assert.ok(niceOf().filter((n) => n === 7).length - before >= 2, `threads' nice values: ${niceOf().join(' ')}`);
    assert.equal(getPriority(), 0, 'the event loop keeps its priority');
  });

  it('batches concurrent requests and gives each the result it would get alone', async (t) => {
    const classifier = await startClassifier(options('tiny-logits2.onnx', { maxBatch: 8 }));
    t.after(() => classifier.close());
    const images = Array.from({ length: 24 }, (_, i) => solid(16 + i, 20, [(i * 37) % 256, (i * 91) % 256, (i * 53) % 256]));
    const alone: [number, number][] = [];
    for (const image of images) alone.push(await classifier.classify(image));
    const together = await Promise.all(images.map((image) => classifier.classify(image)));
    together.forEach((p, i) => {
      assert.ok(Math.abs(p[1] - alone[i]![1]) < 1e-6, `image ${i}`);
    });
  });

  it('fails one request whose PNG does not decode (a DecodeError, the upload\'s fault), and keeps serving the others in its batch', async (t) => {
    const classifier = await startClassifier(options('tiny-logits2.onnx'));
    t.after(() => classifier.close());
    // A sound header and chunk structure (inspectPng passes), but image data that is not zlib.
    const png = Buffer.from(RED.png);
    png.fill(0x55, 41, png.length - 20);
    const broken = inspectPng(png, LIMITS);
    const results = await Promise.allSettled([classifier.classify(RED), classifier.classify(broken), classifier.classify(RED)]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.ok(results[1].status === 'rejected' && results[1].reason instanceof DecodeError && results[1].reason.kind === 'corrupt');
    assert.ok(!(results[1].reason instanceof InferenceError));
  });

  it('refuses a model with an unsupported output, naming the path and the fix', async () => {
    await assert.rejects(startClassifier(options('tiny-bad-output.onnx')), (err: Error) => {
      assert.match(err.message, /tiny-bad-output\.onnx/);
      assert.match(err.message, /\[N,2\].*\[N,1\]/);
      assert.match(err.message, /MODEL_PATH/);
      return true;
    });
  });

  it('refuses a missing file and a file that is not ONNX, in one line', async () => {
    await assert.rejects(startClassifier({ ...options('x'), modelPath: '/nonexistent/model.onnx' }), /cannot load model \/nonexistent\/model\.onnx: file not found\. Set MODEL_PATH/);
    await assert.rejects(startClassifier({ ...options('x'), modelPath: fixtureModel('README.md') }), (err: Error) => {
      assert.match(err.message, /not a valid ONNX model/);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
  });

  it('serves the default model: ResNet-18 input, [N,2] logits, labels Normal/Leak', async (t) => {
    const classifier = await startClassifier({ ...options('x'), modelPath: DEFAULT_MODEL });
    t.after(() => classifier.close());
    const { spec } = classifier.model;
    assert.equal(spec.layout, 'NCHW');
    assert.deepEqual([spec.height, spec.width], [224, 224]);
    assert.equal(spec.outputKind, 'logits2');
    assert.equal(spec.fixedBatch, null);
    assert.deepEqual(spec.labels, ['Normal', 'Leak']);
    assert.match(classifier.model.sha256, /^[0-9a-f]{64}$/);
  });
});
