import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Config } from '../config.js';
import { serveClusterMetrics } from '../cluster-metrics.js';
import { migrateDatabase } from '../server.js';

const RESTART_DELAY_MS = 1_000;

/**
 * The primary of `serve --workers N`: forks N server processes that share the port (node:cluster,
 * as gunicorn's -w), restarts one that dies, and on SIGTERM or SIGINT has each drain and exit.
 * Each worker loads its own model; unless INFERENCE_THREADS is set, they split the cores.
 */
export async function runPrimary(config: Config, graceMs: number): Promise<void> {
  // Migrate once, here, before any worker starts: SQLite has no migration lock, so workers racing
  // through the same migration would fail.
  await migrateDatabase(config);
  const env: Record<string, string> = {};
  if (process.env.INFERENCE_THREADS === undefined) {
    env.INFERENCE_THREADS = String(Math.max(1, Math.floor(availableParallelism() / config.workers)));
  }
  let stopping = false;
  let exitCode = 0;
  let anyListened = false;
  const listening = new WeakSet<Worker>();
  const fork = () => {
    if (!stopping) cluster.fork(env);
  };
  cluster.on('listening', (worker) => {
    listening.add(worker);
    anyListened = true;
  });
  cluster.on('exit', (worker: Worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
      return;
    }
    if (!listening.has(worker) && !anyListened) {
      // The first workers failed to start (they printed why): another would fail the same way.
      exitCode = 1;
      stop('SIGTERM');
      return;
    }
    process.stderr.write(`leakwatch: worker ${worker.process.pid} exited (code ${String(code)}, signal ${signal}); starting another\n`);
    setTimeout(fork, RESTART_DELAY_MS);
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) process.exit(exitCode);
    for (const w of workers) w?.process.kill(signal === 'SIGINT' ? 'SIGTERM' : signal);
    setTimeout(() => process.exit(1), graceMs + 2_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  serveClusterMetrics();
  for (let i = 0; i < config.workers; i++) fork();
}

export const isClusterPrimary = (config: Config) => config.workers > 1 && cluster.isPrimary;
