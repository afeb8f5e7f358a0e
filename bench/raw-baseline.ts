import { IpcChild } from './ipc-child.js';
import type { DecodeTiming, FromOrt, OrtRun, ToOrt } from './ort-protocol.js';
import type { BenchPlan } from './plan.js';
import { SPINNING, type Spinning } from '../src/inference/threads.js';

/** Phase 1: ONNX Runtime alone (no server), and the service's decode + preprocess. */
export interface RawResult {
  /** The screening: every configuration, timed once. */
  runs: OrtRun[];
  /**
   * The configuration with the most images per second in the screening (any batch size,
   * sessions, threads or spinning), timed again for longer: the figure the targets use.
   */
  best: OrtRun;
  /** Batch 1 at its fastest thread count and spinning (one session), timed again likewise. */
  batch1: OrtRun;
  /** The screening's own figures for those two, which selection on noisy timings flatters. */
  screened: { best: OrtRun; batch1: OrtRun };
  decode: DecodeTiming[];
  input: string;
}

type OrtChild = IpcChild<ToOrt, FromOrt>;
const WARM_RUNS = 3;
const DECODE_SIZES = [[224, 224], [640, 480]] as const;

/** Runs the same batch in every child at once (after all have warmed up) and adds their rates. */
async function lockstep(children: OrtChild[], spinning: Spinning, batch: number, seconds: number): Promise<OrtRun> {
  await Promise.all(children.map((c) => c.request({ type: 'warm', batch, runs: WARM_RUNS }, 'warmed')));
  const ran = await Promise.all(children.map((c) => c.request({ type: 'run', batch, seconds }, 'ran')));
  const runs = ran.map((r) => r.run);
  return {
    sessions: children.length,
    threads: runs[0]!.threads,
    spinning,
    batch,
    runs: runs.reduce((n, r) => n + r.runs, 0),
    msPerBatch: runs.reduce((s, r) => s + r.msPerBatch, 0) / runs.length,
    imgPerSec: runs.reduce((s, r) => s + r.imgPerSec, 0),
  };
}

/** Opens a session of `threads` in each child, then times every batch size of the plan. */
async function measureSessions(plan: BenchPlan, children: OrtChild[], threads: number, spinning: Spinning, log: (line: string) => void) {
  const opened = await Promise.all(children.map((c) => c.request({ type: 'open', modelPath: plan.modelPath, threads, spinning }, 'opened')));
  const { fixedBatch, input } = opened[0]!;
  const runs: OrtRun[] = [];
  for (const batch of plan.raw.batches) {
    // A model with a fixed batch dimension runs only that size.
    if (fixedBatch !== null && batch !== fixedBatch) continue;
    const run = await lockstep(children, spinning, batch, plan.raw.seconds);
    log(`  raw ORT ${children.length} session(s) × ${threads} thread(s)${threads > 1 ? ` (spinning ${spinning})` : ''}, batch ${batch}: ${run.msPerBatch.toFixed(1)} ms/batch, ${run.imgPerSec.toFixed(1)} img/s`);
    runs.push(run);
  }
  return { runs, input };
}

/** Times one configuration of the screening again, for plan.raw.confirmSeconds. */
async function confirm(plan: BenchPlan, children: OrtChild[], run: OrtRun, log: (line: string) => void): Promise<OrtRun> {
  const sessions = children.slice(0, run.sessions);
  await Promise.all(sessions.map((c) => c.request({ type: 'open', modelPath: plan.modelPath, threads: run.threads, spinning: run.spinning }, 'opened')));
  const again = await lockstep(sessions, run.spinning, run.batch, plan.raw.confirmSeconds);
  log(`  confirmed ${run.sessions} session(s) × ${run.threads} thread(s), batch ${run.batch}: ${again.msPerBatch.toFixed(1)} ms/batch, ${again.imgPerSec.toFixed(1)} img/s over ${again.runs} runs`);
  return again;
}

export async function measureRaw(plan: BenchPlan, log: (line: string) => void): Promise<RawResult> {
  // Both children start (and sit idle) up front; only one runs at a time unless in lock-step.
  const children: OrtChild[] = Array.from({ length: plan.raw.parallel ? 2 : 1 }, () => new IpcChild<ToOrt, FromOrt>('./ort-child.ts'));
  const first = children[0]!;
  try {
    const runs: OrtRun[] = [];
    let input = '';
    for (const threads of plan.raw.threads) {
      // One thread has no pool to spin: every spinning policy is the same session.
      for (const spinning of threads > 1 ? SPINNING : (['off'] as const)) {
        const measured = await measureSessions(plan, [first], threads, spinning, log);
        runs.push(...measured.runs);
        input = measured.input;
      }
    }
    const { timings: decode } = await first.request({ type: 'decode', iterations: plan.raw.decodeIterations, sizes: DECODE_SIZES }, 'decoded');
    for (const d of decode) log(`  decode + preprocess ${d.width}x${d.height}: ${d.decodeMs.toFixed(2)} + ${d.preprocessMs.toFixed(2)} ms`);
    if (children.length > 1) runs.push(...(await measureSessions(plan, children, 1, 'off', log)).runs);
    if (runs.length === 0) throw new Error('raw ORT: no batch size of the plan fits the model');
    const screenedBest = runs.reduce((a, b) => (b.imgPerSec > a.imgPerSec ? b : a));
    const singles = runs.filter((r) => r.sessions === 1);
    const smallest = Math.min(...singles.map((r) => r.batch));
    const screenedBatch1 = singles.filter((r) => r.batch === smallest).reduce((a, b) => (b.msPerBatch < a.msPerBatch ? b : a));
    // The fastest of ~20 timings of a few seconds each is partly the luckiest: on a machine whose
    // identical timings differ by ±5%, picking and reporting the same sample overstates the
    // winner. So the winners are picked on the screening and measured afresh, for longer.
    const best = await confirm(plan, children, screenedBest, log);
    const batch1 = await confirm(plan, children, screenedBatch1, log);
    return { runs, best, batch1, screened: { best: screenedBest, batch1: screenedBatch1 }, decode, input };
  } finally {
    await Promise.all(children.map((c) => c.close({ type: 'exit' })));
  }
}
