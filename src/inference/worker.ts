import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { DecodeError, decodeInspected } from '../image/decode-png.js';
import { type RawImage, preprocess, sampleLength } from '../preprocess/index.js';
import { type LoadedModel, loadModel } from './model-loader.js';
import { toProbabilities } from './postprocess.js';
import type { FromWorker, ImageResult, ToWorker, WorkerInit } from './protocol.js';

/*
 * An inference worker: owns one ONNX Runtime session, so that `session.run`, which blocks its
 * thread for the whole inference, never blocks the event loop that serves HTTP.
 * Stages here: decode (PNG → raw samples) → preprocess (to RGB8 → resize → normalize) → run →
 * postprocess (probabilities). Decoding here, between runs, keeps it off the event loop and from
 * competing for the cores with a run in progress.
 */

const port = parentPort!;
const post = (msg: FromWorker) => port.postMessage(msg);
const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * A decoded image this large is collected as soon as it has been preprocessed. V8 frees array
 * buffers only when it gets round to a collection, and a batch of big images (a 40-megapixel,
 * 16-bit RGBA frame decodes to 320 MB) would otherwise pile up: 20 such uploads at once took the
 * process from 350 MB to 1.4 GB. A full collection of this thread's small heap takes milliseconds.
 */
const COLLECT_AFTER_BYTES = 32 * 1024 * 1024;
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

type RunMessage = Extract<ToWorker, { type: 'run' }>;

/** Decodes one image and preprocesses it into the batch tensor at `offset`: its decoded size, or why it failed. */
async function prepare(image: RunMessage['images'][number], spec: LoadedModel['spec'], tensor: Float32Array, offset: number): Promise<{ bytes: number } | { failed: ImageResult }> {
  let raw: RawImage;
  try {
    raw = await decodeInspected(image);
  } catch (err) {
    return { failed: err instanceof DecodeError ? { ok: false, message: err.message, corrupt: true } : { ok: false, message: `decoding failed: ${errorMessage(err)}` } };
  }
  try {
    preprocess(raw, spec, tensor, offset);
  } catch (err) {
    return { failed: { ok: false, message: `preprocessing failed: ${errorMessage(err)}` } };
  }
  return { bytes: raw.data.byteLength };
}

async function runBatch(model: LoadedModel, msg: RunMessage): Promise<void> {
  const started = performance.now();
  const { spec } = model;
  const sample = sampleLength(spec);
  const results: ImageResult[] = msg.images.map(() => ({ ok: false, message: 'not run' }));
  const good: number[] = [];
  const batchSize = Math.max(msg.images.length, spec.fixedBatch ?? 0);
  const tensor = new Float32Array(batchSize * sample);
  for (const [i, image] of msg.images.entries()) {
    const prepared = await prepare(image, spec, tensor, good.length * sample);
    if ('failed' in prepared) {
      results[i] = prepared.failed;
      continue;
    }
    good.push(i);
    // The decoded samples are out of reach once prepare returns: a big image's go before the next is decoded.
    if (prepared.bytes >= COLLECT_AFTER_BYTES) collectGarbage();
  }
  if (good.length > 0) {
    const n = spec.fixedBatch ?? good.length;
    const dims = spec.layout === 'NCHW' ? [n, 3, spec.height, spec.width] : [n, spec.height, spec.width, 3];
    try {
      const output = await model.session.run(spec.inputName, tensor.subarray(0, n * sample), dims, spec.outputName);
      const probs = toProbabilities(output, n, spec.outputKind);
      good.forEach((imageIndex, k) => {
        results[imageIndex] = { ok: true, probabilities: probs[k]! };
      });
    } catch (err) {
      for (const i of good) results[i] = { ok: false, message: `inference failed: ${errorMessage(err)}` };
    }
  }
  post({ type: 'result', batch: msg.batch, results, runMs: performance.now() - started });
}

/**
 * Lowers this thread's priority (Linux nice values are per thread, and threads inherit them, so
 * the ONNX Runtime threads that the session creates below get it too). Inference then takes
 * whatever CPU the event loop, decoding and history writes leave: a probe or an upload is not
 * queued behind a batch. Best effort: elsewhere, or if refused, the thread keeps its priority.
 */
function lowerPriority(nice: number): void {
  if (nice === 0 || process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {
    // No /proc, or not permitted: inference runs at normal priority, as it would elsewhere.
  }
}

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  lowerPriority(init.nice);
  let model: LoadedModel;
  try {
    model = await loadModel(init.modelPath, init.fallbacks, init.threads);
  } catch (err) {
    post({ type: 'failed', message: errorMessage(err) });
    return;
  }
  const { session: _session, ...identity } = model;
  post({ type: 'ready', model: identity });
  // One batch at a time: the classifier sends the next only after this one's result.
  port.on('message', (msg: ToWorker) => void runBatch(model, msg));
}

void main();
