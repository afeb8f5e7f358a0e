import type { RawImage } from '../preprocess/types.js';
import type { ModelSpec, SpecFallbacks } from './model-spec.js';
import type { SessionThreads } from './threads.js';

/** Messages between the classifier (main thread) and its inference workers. */
export interface WorkerInit {
  modelPath: string;
  fallbacks: SpecFallbacks;
  threads: SessionThreads;
  /** Nice value for the worker thread and the ONNX Runtime threads it creates (Linux); 0 leaves it. */
  nice: number;
}

export interface ModelIdentity {
  path: string;
  sha256: string;
  sizeBytes: number;
  spec: ModelSpec;
  metadata: Readonly<Record<string, string>>;
}

export type ImageResult = { ok: true; probabilities: [number, number] } | { ok: false; message: string };

export type ToWorker = { type: 'run'; batch: number; images: RawImage[] };

export type FromWorker =
  | { type: 'ready'; model: ModelIdentity }
  | { type: 'failed'; message: string }
  /** `runMs`: preprocessing and inference of the whole batch. */
  | { type: 'result'; batch: number; results: ImageResult[]; runMs: number };
