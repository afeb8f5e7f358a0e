import { performance } from 'node:perf_hooks';
import type { ImageSet } from './images.js';
import { runLoad } from './load.js';
import type { Monitor } from './monitor.js';
import type { MonitorSamples } from './monitor-protocol.js';
import type { BenchPlan } from './plan.js';
import type { ServerProcess } from './server-process.js';
import { type ServerMetrics, scrapeMetrics } from './server-metrics.js';
import { type Summary, round, roundSummary, summarize } from './stats.js';

/** One measured load cell: an image set at a concurrency against one running server. */
export interface CellResult {
  set: string;
  concurrency: number;
  /** 200 responses per second over the window. */
  throughput: number;
  /** Latency (ms) of the 200s in the window. */
  latency: Summary;
  latencyBySize: Record<string, { p50: number; p99: number }>;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  fiveXx: number;
  missing503RetryAfter: number;
  rssMaxMb: number;
  healthz: { n: number; p50: number; p99: number; max: number; failed: number };
  /** CPU used during the window, in cores (CPU seconds per second): the server, and this load generator. */
  cpu: { server: number; client: number };
  /**
   * From the server's /metrics over the window: mean images per batch and ms per batch; `busy`, the
   * share of the window its inference workers spent on batches (1: the model is the bottleneck;
   * well below 1 at saturation: the path before the model starves it); event-loop delay.
   */
  server: ServerSide | null;
  windowSeconds: number;
  requests: number;
}

const REQUEST_TIMEOUT_MS = 60_000;
// Bounds each cell in count too: far above what 2 cores answer in a window.
const MAX_REQUESTS_PER_SECOND = 5000;

export const fiveXxOf = (statuses: Record<string, number>, except: number[] = []): number =>
  Object.entries(statuses).reduce((n, [status, count]) => (Number(status) >= 500 && !except.includes(Number(status)) ? n + count : n), 0);

export interface ServerSide {
  meanBatch: number;
  meanBatchMs: number;
  busy: number;
  lagP99Ms: number;
  lagMaxMs: number;
}

export function serverSide(before: ServerMetrics | undefined, after: ServerMetrics | undefined, seconds: number, workers: number): ServerSide | null {
  if (!before || !after) return null;
  const batches = after.batchCount - before.batchCount;
  const busySeconds = after.batchSecondsSum - before.batchSecondsSum;
  return {
    meanBatch: round(batches > 0 ? (after.batchSizeSum - before.batchSizeSum) / batches : 0),
    meanBatchMs: round(batches > 0 ? (busySeconds / batches) * 1000 : 0),
    // Batches are counted when they end, so one straddling the window's edge can push this past 1.
    busy: round(Math.min(1, busySeconds / seconds / workers)),
    lagP99Ms: round(after.lagP99Seconds * 1000),
    lagMaxMs: round(after.lagMaxSeconds * 1000),
  };
}

export function healthzOf(samples: MonitorSamples): CellResult['healthz'] {
  const ok = samples.healthz.filter((h) => h.status === 200).map((h) => h.ms);
  const s = summarize(ok);
  return { n: s.n, p50: round(s.p50), p99: round(s.p99), max: round(s.max), failed: samples.healthz.length - ok.length };
}

export const rssMaxMbOf = (samples: MonitorSamples): number => round(Math.max(0, ...samples.rss.map((r) => r.kb)) / 1024, 1);

/** Warms up, then measures one cell; the monitor and the metrics cover exactly the window. */
export async function measureCell(server: ServerProcess, monitor: Monitor, set: ImageSet, concurrency: number, plan: BenchPlan): Promise<CellResult> {
  let before: ServerMetrics | undefined;
  let after: ServerMetrics | undefined;
  let samples: MonitorSamples = { healthz: [], rss: [], cpuSeconds: 0, seconds: 0 };
  let clientFrom = { cpu: process.cpuUsage(), t: performance.now() };
  let clientCores = Number.NaN;
  const load = await runLoad({
    url: server.url,
    uploads: set.uploads,
    concurrency,
    warmupMs: plan.warmupSeconds * 1000,
    measureMs: plan.cellSeconds * 1000,
    maxRequests: Math.ceil(MAX_REQUESTS_PER_SECOND * (plan.warmupSeconds + plan.cellSeconds)),
    timeoutMs: REQUEST_TIMEOUT_MS,
    onWindowStart: async () => {
      before = await scrapeMetrics(server.url); // also resets the server's event-loop delay histogram
      await monitor.start(server.url, server.pid);
      clientFrom = { cpu: process.cpuUsage(), t: performance.now() };
    },
    onWindowEnd: async () => {
      const used = process.cpuUsage(clientFrom.cpu);
      clientCores = (used.user + used.system) / 1000 / (performance.now() - clientFrom.t);
      samples = await monitor.stop();
      after = await scrapeMetrics(server.url);
    },
  });
  return {
    set: set.name,
    concurrency,
    throughput: round(load.latencies.length / load.windowSeconds),
    latency: roundSummary(summarize(load.latencies)),
    latencyBySize: Object.fromEntries(Object.entries(load.latenciesBySize).map(([size, l]) => {
      const s = summarize(l);
      return [size, { p50: round(s.p50), p99: round(s.p99) }];
    })),
    statuses: load.statuses,
    errors: load.errors,
    fiveXx: fiveXxOf(load.statuses),
    missing503RetryAfter: load.missing503RetryAfter,
    rssMaxMb: rssMaxMbOf(samples),
    healthz: healthzOf(samples),
    cpu: {
      server: round(samples.seconds > 0 ? samples.cpuSeconds / samples.seconds : Number.NaN),
      client: round(clientCores),
    },
    server: serverSide(before, after, samples.seconds, server.config.inferenceWorkers),
    windowSeconds: round(load.windowSeconds),
    requests: load.requests,
  };
}
