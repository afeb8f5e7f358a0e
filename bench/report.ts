import type { CellResult } from './cell.js';
import type { LoadPhase } from './load-phase.js';
import type { MachineInfo } from './machine.js';
import type { OverloadResult } from './overload.js';
import type { BenchPlan } from './plan.js';
import type { RawResult } from './raw-baseline.js';
import type { SweepResult } from './sweep.js';
import { table } from './table.js';
import type { TargetResult } from './targets.js';

/** Everything one run measured: printed as tables, written as bench/results/latest.json. */
export interface BenchResults {
  machine: MachineInfo;
  plan: BenchPlan;
  raw: RawResult;
  load: LoadPhase;
  sweep?: SweepResult;
  overload?: OverloadResult;
  targets: TargetResult[];
  warnings: string[];
  durationSeconds: number;
}

const f = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '-');
const statusText = (c: { statuses: Record<string, number>; errors: Record<string, number> }) =>
  Object.entries({ ...c.statuses, ...c.errors }).map(([k, v]) => `${k}:${v}`).join(' ');

function loadTable(cells: CellResult[], rawBest: number): string {
  return table(
    ['set', 'conc', 'img/s', 'ratio', 'p50 ms', 'p95 ms', 'p99 ms', 'RSS MB', 'hz p50', 'hz p99', 'batch', 'batch ms', 'busy', 'cpu srv/cli', '5xx', 'responses'],
    cells.map((c) => [c.set, c.concurrency, f(c.throughput), f(c.throughput / rawBest, 2), f(c.latency.p50), f(c.latency.p95), f(c.latency.p99),
      f(c.rssMaxMb, 0), f(c.healthz.p50), f(c.healthz.p99), c.server ? f(c.server.meanBatch, 2) : '-', c.server ? f(c.server.meanBatchMs) : '-', c.server ? f(c.server.busy, 2) : '-', `${f(c.cpu.server, 2)}/${f(c.cpu.client, 2)}`, c.fiveXx, statusText(c)]),
  );
}

export function formatReport(r: BenchResults): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(`Leakwatch bench — ${m.date}${r.plan.quick ? ' (QUICK mode: smoke test, not figures)' : ''}`);
  out.push(`${m.cpuModel}, ${m.cores} cores${m.avx2 ? ', AVX2' : ''}, ${m.memoryGb} GB; Node ${m.nodeVersion}; onnxruntime-node ${m.ortVersion}; load average ${m.loadAverage.join(' ')}`);
  out.push(`model ${m.model.path} (${m.model.bytes} bytes, sha256 ${m.model.sha256.slice(0, 16)}…), input ${r.raw.input}; ${r.plan.cellSeconds} s per cell`);
  for (const w of r.warnings) out.push(`WARNING: ${w}`);

  out.push('', '1. Raw ONNX Runtime (no server), median ms per batch');
  out.push(table(['sessions × threads', 'spinning', 'batch', 'ms/batch', 'img/s', 'runs'], r.raw.runs.map((x) => [`${x.sessions} × ${x.threads}`, x.threads > 1 ? x.spinning : '-', x.batch, f(x.msPerBatch), f(x.imgPerSec), x.runs])));
  const { best, batch1, screened, retimed } = r.raw;
  out.push(`best: ${f(best.imgPerSec)} img/s (${best.sessions} × ${best.threads}, batch ${best.batch}${best.threads > 1 ? `, spinning ${best.spinning}` : ''}; ` +
    `screening ${f(screened.best.imgPerSec)}, timed again for ${r.plan.raw.retimeSeconds} s ${f(retimed.best.imgPerSec)}); ` +
    `batch 1: ${f(batch1.msPerBatch)} ms at ${batch1.threads} thread(s), spinning ${batch1.spinning} (screening ${f(screened.batch1.msPerBatch)}, timed again ${f(retimed.batch1.msPerBatch)}). ` +
    'The targets use the better of the two timings of each.');
  out.push(table(['image', 'decode ms', 'preprocess ms', 'total ms'], r.raw.decode.map((d) => [`${d.width}x${d.height}`, f(d.decodeMs, 2), f(d.preprocessMs, 2), f(d.totalMs, 2)])));

  const t = r.load.tuning;
  out.push('', `2. HTTP load, service defaults: MAX_BATCH=${t.maxBatch} INFERENCE_WORKERS=${t.inferenceWorkers} INFERENCE_THREADS=${t.inferenceThreads} ` +
    `INFERENCE_SPINNING=${t.inferenceSpinning} INFERENCE_NICE=${t.inferenceNice} ` +
    `MAX_QUEUE_DELAY_MS=${t.maxQueueDelayMs} MAX_QUEUE=${t.maxQueue} SQLITE_SYNCHRONOUS=${t.sqliteSynchronous}; ${r.plan.warmupSeconds} s warm-up per cell`);
  out.push(loadTable(r.load.cells, r.raw.best.imgPerSec));
  out.push(`ratio: img/s ÷ raw ORT best; hz: GET /healthz ms; batch, batch ms: mean images per inference run and its mean time (decode + preprocess + ORT, in the worker); busy: share of the window the workers ran batches; cpu: cores used by the server / by the load generator`);
  out.push(`server log lines ≥ warn, by pino level: ${JSON.stringify(r.load.serverLog)}`);

  if (r.sweep) {
    out.push('', `3. Defaults sweep (224×224; rule: ${r.sweep.rule})`);
    out.push(table(['setting', 'c16 img/s', 'c16 p99', 'c1 p50', 'c1 cpu ms/img', 'batch', 'busy', 'hz p99', '5xx'], r.sweep.rows.map((x) => [
      x.name, f(x.saturated.throughput), f(x.saturated.latency.p99), f(x.alone.latency.p50), f((1000 * x.alone.cpu.server) / x.alone.throughput),
      x.saturated.server ? f(x.saturated.server.meanBatch, 2) : '-',
      x.saturated.server ? f(x.saturated.server.busy, 2) : '-', f(x.saturated.healthz.p99), x.saturated.fiveXx + x.alone.fiveXx,
    ])));
    out.push('c1 cpu ms/img: server CPU time per image at concurrency 1 (inference, the rest of the path, and any idle spinning)');
    for (const st of r.sweep.steps) out.push(`${st.question}: ${st.winner}`);
    const w = r.sweep.winner.setting;
    out.push(`WINNER: ${Object.entries(w).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    const t = r.load.tuning;
    const current = r.sweep.rows.find((x) => x.setting.MAX_BATCH === t.maxBatch && x.setting.INFERENCE_WORKERS === t.inferenceWorkers &&
      x.setting.INFERENCE_THREADS === t.inferenceThreads && x.setting.MAX_QUEUE_DELAY_MS === t.maxQueueDelayMs &&
      x.setting.INFERENCE_SPINNING === t.inferenceSpinning && x.setting.INFERENCE_NICE === t.inferenceNice);
    if (current && current !== r.sweep.winner) {
      const win = r.sweep.winner;
      out.push(`vs the current defaults (${current.name}): c16 ${f(current.saturated.throughput)} → ${f(win.saturated.throughput)} img/s, ` +
        `p99 ${f(current.saturated.latency.p99, 0)} → ${f(win.saturated.latency.p99, 0)} ms, c1 p50 ${f(current.alone.latency.p50)} → ${f(win.alone.latency.p50)} ms`);
    } else if (current) out.push('the current defaults win');
  }

  if (r.overload) {
    const o = r.overload;
    const saturated = Math.max(...r.load.cells.filter((c) => c.set === '224' && c.concurrency >= 16).map((c) => c.throughput));
    out.push('', `4. Overload: ${o.clients} clients, MAX_QUEUE=${o.maxQueue}, ${o.seconds} s`);
    out.push(`responses: ${statusText(o)} (${o.requests} requests; ${f(o.throughput)} img/s of 200s, vs ${f(saturated)} at saturation without overload; their p50/p99 ${f(o.latency.p50, 0)}/${f(o.latency.p99, 0)} ms); 503 without Retry-After: ${o.missing503RetryAfter}; other statuses: ${o.otherStatuses}; cpu srv/cli ${f(o.cpu.server, 2)}/${f(o.cpu.client, 2)}; workers busy ${o.server ? f(o.server.busy, 2) : '-'}, mean batch ${o.server ? f(o.server.meanBatch, 2) : '-'}`);
    out.push(`RSS: idle ${o.rss.idleMb} MB → peak ${o.rss.peakMb} MB → ${o.rss.settledMb} MB, ${o.rss.settled ? `settled ${o.rss.settleSeconds ?? '?'} s after the load` : 'NOT settled'}; healthz p50 ${f(o.healthz.p50)} / p99 ${f(o.healthz.p99)} ms; recovered: ${o.recovered ? 'yes' : 'NO'}; server log lines ≥ warn: ${JSON.stringify(o.serverLog)}`);
  }

  out.push('', 'Targets');
  for (const t of r.targets) out.push(`${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.detail}`);
  out.push('', `took ${f(r.durationSeconds, 0)} s`);
  return out.join('\n');
}
