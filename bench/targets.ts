import type { CellResult } from './cell.js';
import type { LoadPhase } from './load-phase.js';
import type { OverloadResult } from './overload.js';
import type { RawResult } from './raw-baseline.js';
import type { SweepResult } from './sweep.js';

/** One of the issue's targets, or a check of the overload scenario, evaluated on this run. */
export interface TargetResult {
  name: string;
  pass: boolean;
  detail: string;
}

/** Cells at or above this concurrency count as saturated (4× the default MAX_BATCH). */
export const SATURATION_CONCURRENCY = 16;

const max = (values: number[]) => (values.length > 0 ? Math.max(...values) : Number.NaN);
const f = (v: number, digits = 1) => v.toFixed(digits);

export function evaluateTargets(raw: RawResult, load: LoadPhase, sweep: SweepResult | undefined, overload: OverloadResult | undefined): TargetResult[] {
  const saturated = load.cells.filter((c) => c.concurrency >= SATURATION_CONCURRENCY);
  const small = load.cells.filter((c) => c.set === '224');
  const out: TargetResult[] = [];

  const top = small.reduce<CellResult | undefined>((a, c) => (!a || c.throughput > a.throughput ? c : a), undefined);
  const need = 0.85 * raw.best.imgPerSec;
  out.push({
    name: 'saturation throughput (224) ≥ 0.85 × raw ORT best',
    pass: top !== undefined && top.throughput >= need,
    detail: `${top ? `${f(top.throughput)} img/s at c=${top.concurrency}` : 'not measured'} vs 0.85 × ${f(raw.best.imgPerSec)} = ${f(need)} img/s (ratio ${top ? f(top.throughput / raw.best.imgPerSec, 2) : '?'})`,
  });

  const alone = small.find((c) => c.concurrency === 1);
  const decode224 = raw.decode.find((d) => d.width === 224)?.totalMs ?? Number.NaN;
  const bound = 1.15 * (raw.batch1.msPerBatch + decode224);
  out.push({
    name: 'concurrency-1 p50 ≤ 1.15 × (raw batch-1 ms + 224 decode ms)',
    pass: alone !== undefined && alone.latency.p50 <= bound,
    detail: `${alone ? f(alone.latency.p50) : 'not measured'} ms vs 1.15 × (${f(raw.batch1.msPerBatch)} + ${f(decode224, 2)}) = ${f(bound)} ms`,
  });

  const healthz = max(saturated.map((c) => c.healthz.p99));
  out.push({
    name: 'healthz p99 ≤ 20 ms under saturation',
    pass: healthz <= 20,
    detail: `worst p99 ${f(healthz)} ms over cells with c ≥ ${SATURATION_CONCURRENCY} (both image sets)`,
  });

  const rss = max(saturated.map((c) => c.rssMaxMb));
  out.push({ name: 'RSS ≤ 500 MB at saturation', pass: rss <= 500, detail: `max ${f(rss, 0)} MB over cells with c ≥ ${SATURATION_CONCURRENCY}` });

  const cells = [...load.cells, ...(sweep?.rows.flatMap((r) => [r.saturated, r.alone]) ?? [])];
  const fiveXx = cells.reduce((n, c) => n + c.fiveXx, 0) + (overload?.fiveXxOther ?? 0);
  const failures = cells.reduce((n, c) => n + Object.values(c.errors).reduce((a, b) => a + b, 0), 0);
  out.push({
    name: 'no 5xx (503 under overload excluded)',
    pass: fiveXx === 0,
    detail: `${fiveXx} 5xx over ${cells.length} load/sweep cells${overload ? ' and the overload' : ''}; ${failures} client-side failures (resets, timeouts) in load/sweep cells`,
  });

  if (overload) {
    const s = overload.statuses;
    out.push({
      name: 'overload: only 200 and 503, every 503 with Retry-After',
      pass: overload.otherStatuses === 0 && overload.missing503RetryAfter === 0 && (s['503'] ?? 0) > 0,
      detail: `200: ${s['200'] ?? 0}, 503: ${s['503'] ?? 0}, other: ${overload.otherStatuses}, 503 without Retry-After: ${overload.missing503RetryAfter}, client errors: ${JSON.stringify(overload.errors)}`,
    });
    out.push({
      name: 'overload: RSS bounded and settles, service recovers',
      pass: overload.rss.settled && overload.rss.peakMb <= 500 && overload.recovered,
      detail: `RSS idle ${overload.rss.idleMb} → peak ${overload.rss.peakMb} → ${overload.rss.settledMb} MB (${overload.rss.settled ? `settled ${overload.rss.settleSeconds ?? '?'} s after the load` : 'NOT settled'}); a predict afterwards: ${overload.recovered ? '200' : 'FAILED'}`,
    });
  }
  return out;
}
