import type { Spinning } from '../src/inference/threads.js';

/** Messages between the bench and its raw ONNX Runtime child (bench/ort-child.ts), over IPC. */

export interface OrtRun {
  sessions: number;
  threads: number;
  /** What idle intra-op threads did (irrelevant at 1 thread, which has no pool). */
  spinning: Spinning;
  batch: number;
  runs: number;
  /** Median wall time of one `session.run` of the whole batch. */
  msPerBatch: number;
  imgPerSec: number;
}

export interface DecodeTiming {
  width: number;
  height: number;
  /** Medians: decode (the service's decodePng: png-fast.ts for these plain RGB PNGs), preprocess (to RGB8, resize, normalize), both. */
  decodeMs: number;
  preprocessMs: number;
  totalMs: number;
}

export type ToOrt =
  | { type: 'open'; modelPath: string; threads: number; spinning: Spinning }
  /** Runs the batch a few times untimed: first runs allocate and pick kernels. */
  | { type: 'warm'; batch: number; runs: number }
  | { type: 'run'; batch: number; seconds: number }
  | { type: 'decode'; iterations: number; sizes: readonly (readonly [number, number])[] }
  | { type: 'exit' };

export type FromOrt =
  | { type: 'opened'; fixedBatch: number | null; input: string }
  | { type: 'warmed' }
  | { type: 'ran'; run: Omit<OrtRun, 'sessions' | 'spinning'> }
  | { type: 'decoded'; timings: DecodeTiming[] }
  | { type: 'error'; message: string };
