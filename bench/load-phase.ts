import type { Config } from '../src/config.js';
import { type CellResult, measureCell } from './cell.js';
import type { ImageSet } from './images.js';
import type { Monitor } from './monitor.js';
import type { BenchPlan } from './plan.js';
import { startServer } from './server-process.js';

/** Phase 2: the service with its default settings, under closed-loop HTTP load. */
export interface LoadPhase {
  settings: Record<string, string>;
  /** The effective tuning of the server, defaults included. */
  tuning: Pick<Config, 'maxBatch' | 'maxQueue' | 'maxQueueDelayMs' | 'inferenceWorkers' | 'inferenceThreads' | 'inferenceSpinning' | 'inferenceNice' | 'sqliteSynchronous'>;
  cells: CellResult[];
  /** Server log lines at warn or above during the phase, by pino level. */
  serverLog: Record<string, number>;
}

export function describeCell(c: CellResult): string {
  const status = Object.entries({ ...c.statuses, ...c.errors }).map(([k, v]) => `${k}:${v}`).join(' ');
  return `${c.throughput.toFixed(1)} img/s, p50 ${c.latency.p50.toFixed(0)} ms, p99 ${c.latency.p99.toFixed(0)} ms, ` +
    `healthz p99 ${c.healthz.p99.toFixed(1)} ms, RSS ${c.rssMaxMb.toFixed(0)} MB, batch ${c.server?.meanBatch ?? '?'} [${status}]`;
}

export async function runLoadPhase(plan: BenchPlan, sets: ImageSet[], monitor: Monitor, log: (line: string) => void): Promise<LoadPhase> {
  const server = await startServer(plan.modelPath);
  try {
    const cells: CellResult[] = [];
    for (const set of sets) {
      for (const concurrency of plan.load.concurrencies) {
        const cell = await measureCell(server, monitor, set, concurrency, plan);
        log(`  ${set.name.padEnd(3)} c=${String(concurrency).padEnd(3)} ${describeCell(cell)}`);
        cells.push(cell);
      }
    }
    const { maxBatch, maxQueue, maxQueueDelayMs, inferenceWorkers, inferenceThreads, inferenceSpinning, inferenceNice, sqliteSynchronous } = server.config;
    const tuning = { maxBatch, maxQueue, maxQueueDelayMs, inferenceWorkers, inferenceThreads, inferenceSpinning, inferenceNice, sqliteSynchronous };
    return { settings: server.settings, tuning, cells, serverLog: server.logLevels() };
  } finally {
    await server.stop();
  }
}
