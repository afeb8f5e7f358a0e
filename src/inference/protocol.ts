import type { InspectedPng } from '../image/decode-png.js';
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

/** `corrupt`: the image could not be decoded (the upload's fault), as opposed to a failed inference. */
export type ImageResult = { ok: true; probabilities: [number, number] } | { ok: false; message: string; corrupt?: true };

/** Images as uploaded (checked up to their header: inspectPng); the worker decodes them. */
export type ToWorker = { type: 'run'; batch: number; images: InspectedPng[] };

export type FromWorker =
  | { type: 'ready'; model: ModelIdentity }
  | { type: 'failed'; message: string }
  /** `runMs`: decoding, preprocessing and inference of the whole batch. */
  | { type: 'result'; batch: number; results: ImageResult[]; runMs: number };
