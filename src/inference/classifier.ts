import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../workers/module-worker.js';
import { DecodeError, type InspectedPng } from '../image/decode-png.js';
import type { SpecFallbacks } from './model-spec.js';
import type { Spinning } from './threads.js';
import type { FromWorker, ModelIdentity, ToWorker, WorkerInit } from './protocol.js';

/** Classifies images; the rest of the service depends on this, not on ONNX Runtime. */
export interface Classifier {
  readonly model: ModelIdentity;
  /**
   * Decodes (in the worker) and classifies an upload that passed inspectPng. Resolves to
   * [p(class 0), p(class 1)], class 1 being the leak class; rejects with a DecodeError when the
   * image cannot be decoded, and with an InferenceError when inference fails.
   */
  classify(image: InspectedPng): Promise<[number, number]>;
  /** True while at least one worker is up. */
  isReady(): boolean;
  stats(): ClassifierStats;
  /** Calls `observer` after every batch with its size and duration (metrics); returns an unsubscribe. */
  observeBatches(observer: BatchObserver): () => void;
  close(): Promise<void>;
}

export interface ClassifierStats {
  /** Images waiting for a worker. */
  queued: number;
  /** Images in batches being run. */
  inFlight: number;
  workers: number;
  /** Recent inference time per image (a moving average over batches), 0 before the first batch. */
  msPerImage: number;
}

export interface ClassifierOptions {
  modelPath: string;
  fallbacks: SpecFallbacks;
  workers: number;
  intraOpThreads: number;
  /** What idle ONNX Runtime threads do. */
  spinning: Spinning;
  /** Nice value of the inference threads (Linux): above 0, HTTP, decoding and SQLite go first. */
  nice: number;
  maxBatch: number;
  /** How long a partial batch may wait for more images while a worker is idle; 0 never waits. */
  maxQueueDelayMs?: number;
}

export type BatchObserver = (size: number, ms: number) => void;

/** Thrown when inference fails for one request; the service stays up. */
export class InferenceError extends Error {
  override name = 'InferenceError';
}

/** No inference worker is running (shutting down, or all crashed and are restarting). */
export class ClassifierUnavailableError extends Error {
  override name = 'ClassifierUnavailableError';
}

/** The model could not be loaded by a worker. */
export class ClassifierStartError extends Error {
  override name = 'ClassifierStartError';
}

interface Pending {
  image: InspectedPng;
  enqueuedAt: number;
  resolve: (p: [number, number]) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  inFlight: Pending[] | null;
}

function spawn(init: WorkerInit): Promise<{ worker: Worker; model: ModelIdentity }> {
  return new Promise((resolve, reject) => {
    const worker = startModuleWorker(import.meta.url, 'worker', init, { resourceLimits: { stackSizeMb: inferenceStackMb() } });
    const onExit = (code: number) => reject(new ClassifierStartError(`inference worker exited with code ${code} while loading the model`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (msg: FromWorker) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      if (msg.type === 'ready') resolve({ worker, model: msg.model });
      else {
        void worker.terminate();
        reject(new ClassifierStartError(msg.type === 'failed' ? msg.message : 'inference worker sent an unexpected message'));
      }
    });
  });
}

/**
 * Starts the inference workers and returns once every one has loaded the model.
 * Requests queue here; whenever a worker is idle it takes up to `maxBatch` of them as one batch.
 */
/**
 * Stack for an inference worker thread. Creating an ONNX Runtime session in a worker thread uses
 * stack in proportion to the process's command line (measured with onnxruntime-node 1.30: a 20 kB
 * command line overflows Node's default 4 MB worker stack, 380 kB needs more than 64 MB), so
 * `leakwatch predict dir/*.png` with thousands of files crashed. The stack is reserved address
 * space, not resident memory: size it at 1 kB per byte of command line, 4 MB at least.
 */
function inferenceStackMb(): number {
  const argvBytes = process.argv.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0) + process.execArgv.reduce((n, a) => n + a.length + 1, 0);
  return Math.min(4096, Math.max(4, Math.ceil(argvBytes / 1024)));
}

export async function startClassifier(options: ClassifierOptions): Promise<Classifier> {
  const init: WorkerInit = {
    modelPath: options.modelPath,
    fallbacks: options.fallbacks,
    threads: { intraOpThreads: options.intraOpThreads, spinning: options.spinning },
    nice: options.nice,
  };
  const started = await Promise.allSettled(Array.from({ length: options.workers }, () => spawn(init)));
  const failure = started.find((s) => s.status === 'rejected');
  if (failure) {
    await Promise.all(started.flatMap((s) => (s.status === 'fulfilled' ? [s.value.worker.terminate()] : [])));
    throw failure.reason instanceof Error ? failure.reason : new ClassifierStartError(String(failure.reason));
  }
  const first = started[0] as PromiseFulfilledResult<{ worker: Worker; model: ModelIdentity }>;
  const model = first.value.model;
  const batchLimit = Math.min(options.maxBatch, model.spec.fixedBatch ?? options.maxBatch);
  const maxDelay = options.maxQueueDelayMs ?? 0;
  const queue: Pending[] = [];
  const slots: Slot[] = [];
  let batchSeq = 0;
  let closing = false;
  let msPerImage = 0;
  let delayTimer: NodeJS.Timeout | undefined;
  const observers = new Set<BatchObserver>();

  const pump = () => {
    clearTimeout(delayTimer);
    delayTimer = undefined;
    for (const slot of slots) {
      if (queue.length === 0) return;
      if (slot.inFlight) continue;
      // A partial batch may wait up to maxDelay (from its oldest image's arrival) for company.
      const wait = queue.length < batchLimit ? queue[0]!.enqueuedAt + maxDelay - performance.now() : 0;
      if (wait > 0) {
        delayTimer = setTimeout(pump, wait);
        return;
      }
      const batch = queue.splice(0, batchLimit);
      slot.inFlight = batch;
      const msg: ToWorker = { type: 'run', batch: ++batchSeq, images: batch.map((p) => p.image) };
      slot.worker.postMessage(msg);
    }
  };

  const failInFlight = (slot: Slot, reason: string) => {
    for (const p of slot.inFlight ?? []) p.reject(new InferenceError(reason));
    slot.inFlight = null;
  };

  const attach = (slot: Slot) => {
    slot.worker.on('message', (msg: FromWorker) => {
      if (msg.type !== 'result' || !slot.inFlight) return;
      const batch = slot.inFlight;
      slot.inFlight = null;
      const perImage = msg.runMs / batch.length;
      msPerImage = msPerImage === 0 ? perImage : 0.8 * msPerImage + 0.2 * perImage;
      for (const observe of observers) observe(batch.length, msg.runMs);
      msg.results.forEach((r, i) => {
        const p = batch[i]!;
        if (r.ok) p.resolve(r.probabilities);
        else p.reject(r.corrupt ? new DecodeError('corrupt', r.message) : new InferenceError(r.message));
      });
      pump();
    });
    slot.worker.on('error', (err) => failInFlight(slot, `inference worker crashed: ${err.message}`));
    slot.worker.on('exit', (code) => {
      failInFlight(slot, `inference worker exited with code ${code}`);
      const index = slots.indexOf(slot);
      if (index >= 0) slots.splice(index, 1);
      if (!closing) void respawn();
    });
  };

  const respawn = async () => {
    try {
      const { worker } = await spawn(init);
      if (closing) {
        await worker.terminate();
        return;
      }
      const slot: Slot = { worker, inFlight: null };
      slots.push(slot);
      attach(slot);
      pump();
    } catch {
      // The model loaded before, so this is transient (e.g. memory pressure): try again shortly.
      if (!closing) setTimeout(() => void respawn(), 1000).unref();
    }
  };

  for (const s of started) {
    if (s.status !== 'fulfilled') continue;
    const slot: Slot = { worker: s.value.worker, inFlight: null };
    slots.push(slot);
    attach(slot);
  }

  return {
    model,
    classify(image) {
      if (closing) return Promise.reject(new ClassifierUnavailableError('the classifier is shutting down'));
      if (slots.length === 0) return Promise.reject(new ClassifierUnavailableError('no inference worker is running; one is restarting'));
      return new Promise((resolve, reject) => {
        queue.push({ image, enqueuedAt: performance.now(), resolve, reject });
        pump();
      });
    },
    isReady: () => !closing && slots.length > 0,
    stats: () => ({
      queued: queue.length,
      inFlight: slots.reduce((n, s) => n + (s.inFlight?.length ?? 0), 0),
      workers: slots.length,
      msPerImage,
    }),
    observeBatches(observer) {
      observers.add(observer);
      return () => observers.delete(observer);
    },
    async close() {
      closing = true;
      clearTimeout(delayTimer);
      for (const p of queue.splice(0)) p.reject(new ClassifierUnavailableError('the classifier is shutting down'));
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
