import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the bench always runs the build and the model from here. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What one `npm run bench` measures and for how long; built once from the BENCH_* env knobs. */
export interface BenchPlan {
  quick: boolean;
  /** Measured seconds per load cell (BENCH_SECONDS). */
  cellSeconds: number;
  /** Unmeasured load before each cell's window, so the window sees a steady state. */
  warmupSeconds: number;
  modelPath: string;
  raw: {
    batches: number[];
    threads: number[];
    parallel: boolean;
    /** Per configuration in the screening. */
    seconds: number;
    /** For the screening's winners, timed again. */
    retimeSeconds: number;
    decodeIterations: number;
  };
  load: { concurrencies: number[]; imagesPerSize: number };
  sweep: { batches: number[]; delays: number[]; twoWorkers: boolean; spinning: boolean; nice: boolean };
  overload: { maxQueue: number; clients: number; seconds: number; settleSeconds: number };
}

export class PlanError extends Error {
  override name = 'PlanError';
}

function seconds(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 600) throw new PlanError(`BENCH_SECONDS=${JSON.stringify(raw)}: expected a number of seconds > 0 and ≤ 600`);
  return value;
}

export function loadPlan(env: NodeJS.ProcessEnv = process.env): BenchPlan {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const cellSeconds = seconds(env.BENCH_SECONDS, quick ? 1 : 6);
  const modelPath = resolve(ROOT, env.MODEL_PATH ?? 'models/resnet18_binary_finetuned.onnx');
  if (quick) {
    return {
      quick,
      cellSeconds,
      warmupSeconds: 0.5,
      modelPath,
      raw: { batches: [1, 4], threads: [1, 2], parallel: true, seconds: Math.min(cellSeconds, 0.5), retimeSeconds: Math.min(cellSeconds, 0.5), decodeIterations: 10 },
      load: { concurrencies: [1, 16], imagesPerSize: 8 },
      // One setting of each step, so that every code path runs.
      sweep: { batches: [4], delays: [2], twoWorkers: true, spinning: true, nice: true },
      overload: { maxQueue: 16, clients: 1024, seconds: 2, settleSeconds: 2 },
    };
  }
  return {
    quick,
    cellSeconds,
    warmupSeconds: 1,
    modelPath,
    raw: { batches: [1, 2, 4, 8], threads: [1, 2], parallel: true, seconds: Math.max(1, cellSeconds / 2), retimeSeconds: Math.max(3, cellSeconds * 2), decodeIterations: 40 },
    load: { concurrencies: [1, 4, 16, 64], imagesPerSize: 32 },
    sweep: { batches: [1, 2, 4, 8, 16], delays: [2, 5], twoWorkers: true, spinning: true, nice: true },
    overload: { maxQueue: 16, clients: 1024, seconds: Math.max(3, cellSeconds * 0.75), settleSeconds: 5 },
  };
}
