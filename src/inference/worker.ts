import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
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

async function runBatch(model: LoadedModel, msg: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  const started = performance.now();
  const { spec } = model;
  const sample = sampleLength(spec);
  const results: ImageResult[] = msg.images.map(() => ({ ok: false, message: 'not run' }));
  const good: number[] = [];
  const batchSize = Math.max(msg.images.length, spec.fixedBatch ?? 0);
  const tensor = new Float32Array(batchSize * sample);
  for (const [i, image] of msg.images.entries()) {
    let raw: RawImage;
    try {
      raw = await decodeInspected(image);
    } catch (err) {
      results[i] = err instanceof DecodeError ? { ok: false, message: err.message, corrupt: true } : { ok: false, message: `decoding failed: ${errorMessage(err)}` };
      continue;
    }
    try {
      preprocess(raw, spec, tensor, good.length * sample);
      good.push(i);
    } catch (err) {
      results[i] = { ok: false, message: `preprocessing failed: ${errorMessage(err)}` };
    }
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
