import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CellResult, type ServerSide, fiveXxOf, healthzOf, serverSide } from './cell.js';
import type { ImageSet } from './images.js';
import { runLoad } from './load.js';
import type { Monitor } from './monitor.js';
import type { BenchPlan } from './plan.js';
import { startServer } from './server-process.js';
import { scrapeMetrics } from './server-metrics.js';
import { type Summary, median, round, roundSummary, summarize } from './stats.js';

/** Phase 4: far more clients than MAX_QUEUE; only 200 and 503 (with Retry-After) may come back. */
export interface OverloadResult {
  maxQueue: number;
  clients: number;
  seconds: number;
  requests: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  /** 200s per second from the start of the storm until its last request was answered, and their latency (ms). */
  throughput: number;
  latency: Summary;
  missing503RetryAfter: number;
  /** Responses other than 200 and 503. */
  otherStatuses: number;
  fiveXxOther: number;
  rss: { idleMb: number; peakMb: number; settledMb: number; settled: boolean; settleSeconds: number | null };
  /** The server's RSS through the scenario: [seconds since the monitor started, MB]; the load ran from `loadSeconds[0]` to `[1]`. */
  rssTrace: [number, number][];
  /** Batching during the storm (see CellResult.server): is the model kept busy? */
  server: ServerSide | null;
  /** CPU used during the storm, in cores: the server, and this load generator. */
  cpu: { server: number; client: number };
  loadSeconds: [number, number];
  /** GET /healthz during the storm. */
  healthz: CellResult['healthz'];
  /** A lone predict after the storm got a 200. */
  recovered: boolean;
  serverLog: Record<string, number>;
}

const IDLE_MS = 1000;
const SETTLE_WINDOW_MS = 1000;
/** RSS has settled when the last second's samples lie within this of each other (MB, or fraction). */
const SETTLE_MB = 4;
const SETTLE_FRACTION = 0.02;
const MAX_REQUESTS = 200_000;

function settling(rss: readonly { t: number; kb: number }[], loadEndT: number): OverloadResult['rss'] {
  const mb = (kb: number) => kb / 1024;
  const idle = rss.filter((r) => r.t <= IDLE_MS).map((r) => mb(r.kb));
  const after = rss.filter((r) => r.t >= loadEndT);
  const last = after.filter((r) => r.t >= after[after.length - 1]!.t - SETTLE_WINDOW_MS).map((r) => mb(r.kb));
  const settledMb = median(last);
  const tolerance = Math.max(SETTLE_MB, settledMb * SETTLE_FRACTION);
  const settled = last.length > 1 && Math.max(...last) - Math.min(...last) <= tolerance;
  // When it settled: the first sample after which every sample stays within tolerance of the final value.
  let since: number | null = null;
  for (const r of after) {
    if (Math.abs(mb(r.kb) - settledMb) > tolerance) since = null;
    else since ??= r.t;
  }
  return {
    idleMb: round(median(idle), 1),
    peakMb: round(Math.max(...rss.map((r) => mb(r.kb))), 1),
    settledMb: round(settledMb, 1),
    settled,
    settleSeconds: settled && since !== null ? round(Math.max(0, since - loadEndT) / 1000, 1) : null,
  };
}

function cpuBetween(samples: readonly { t: number; cpu: number }[], from: number, to: number): number {
  const inside = samples.filter((r) => r.t >= from && r.t <= to);
  const first = inside[0];
  const last = inside[inside.length - 1];
  return first && last && last.t > first.t ? (last.cpu - first.cpu) / ((last.t - first.t) / 1000) : Number.NaN;
}

export async function runOverload(plan: BenchPlan, set: ImageSet, monitor: Monitor, log: (line: string) => void): Promise<OverloadResult> {
  const { maxQueue, clients, seconds, settleSeconds } = plan.overload;
  const server = await startServer(plan.modelPath, { MAX_QUEUE: String(maxQueue) });
  try {
    await monitor.start(server.url, server.pid);
    const t0 = performance.now();
    await sleep(IDLE_MS);
    const before = await scrapeMetrics(server.url);
    const clientCpu = process.cpuUsage();
    const loadStartT = performance.now() - t0;
    const load = await runLoad({ url: server.url, uploads: set.uploads, concurrency: clients, warmupMs: 0, measureMs: seconds * 1000, maxRequests: MAX_REQUESTS, timeoutMs: 30_000 });
    const loadEndT = performance.now() - t0;
    const stormSeconds = (loadEndT - loadStartT) / 1000;
    const clientUsed = process.cpuUsage(clientCpu);
    const during = await scrapeMetrics(server.url);
    await sleep(settleSeconds * 1000);
    const samples = await monitor.stop();
    const after = await runLoad({ url: server.url, uploads: set.uploads, concurrency: 1, warmupMs: 0, measureMs: 10_000, maxRequests: 1, timeoutMs: 30_000 });
    const otherStatuses = Object.entries(load.statuses).reduce((n, [s, c]) => (s === '200' || s === '503' ? n : n + c), 0);
    const result: OverloadResult = {
      maxQueue,
      clients,
      seconds,
      requests: load.requests,
      statuses: load.statuses,
      errors: load.errors,
      throughput: round(load.allOk.length / stormSeconds),
      latency: roundSummary(summarize(load.allOk)),
      missing503RetryAfter: load.missing503RetryAfter,
      otherStatuses,
      fiveXxOther: fiveXxOf(load.statuses, [503]),
      rss: settling(samples.rss, loadEndT),
      server: serverSide(before, during, stormSeconds, server.config.inferenceWorkers),
      cpu: {
        server: round(cpuBetween(samples.rss, loadStartT, loadEndT)),
        client: round((clientUsed.user + clientUsed.system) / 1e6 / stormSeconds),
      },
      rssTrace: samples.rss.map((r) => [round(r.t / 1000, 2), round(r.kb / 1024, 1)]),
      loadSeconds: [round(loadStartT / 1000, 2), round(loadEndT / 1000, 2)],
      healthz: healthzOf({ ...samples, healthz: samples.healthz.filter((h) => h.t >= loadStartT && h.t <= loadEndT) }),
      recovered: after.statuses['200'] === 1,
      serverLog: server.logLevels(),
    };
    const status = Object.entries({ ...load.statuses, ...load.errors }).map(([k, v]) => `${k}:${v}`).join(' ');
    log(`  ${clients} clients vs MAX_QUEUE=${maxQueue}: [${status}], RSS idle ${result.rss.idleMb} → peak ${result.rss.peakMb} → ${result.rss.settledMb} MB`);
    return result;
  } finally {
    await server.stop();
  }
}
