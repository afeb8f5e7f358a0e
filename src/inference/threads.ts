/** How an ONNX Runtime session uses its threads (no ONNX Runtime import: config reads this). */

/**
 * What ONNX Runtime's intra-op threads do while they wait for work:
 * - `during-runs`: spin between the parallel sections of a run (each hand-off is then a memory
 *   write, not a futex wake-up), and stop the moment the run returns, so idle threads never take
 *   the cores that HTTP, decoding and SQLite need between runs;
 * - `off`: always sleep (every parallel section wakes the other threads);
 * - `always`: ONNX Runtime's default, spinning between runs too.
 */
export const SPINNING = ['during-runs', 'off', 'always'] as const;
export type Spinning = (typeof SPINNING)[number];

export interface SessionThreads {
  intraOpThreads: number;
  spinning: Spinning;
}
