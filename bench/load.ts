import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Upload } from './images.js';

export interface LoadOptions {
  url: string;
  uploads: readonly Upload[];
  concurrency: number;
  warmupMs: number;
  measureMs: number;
  /** A hard bound on requests sent, whatever the time. */
  maxRequests: number;
  timeoutMs: number;
  /** Called when the measured window opens and once it has closed (the monitor, /metrics). */
  onWindowStart?: () => Promise<void>;
  onWindowEnd?: () => Promise<void>;
}

export interface LoadResult {
  /** Every response of the run (warm-up and drain too), by status; client errors by code. */
  statuses: Record<string, number>;
  errors: Record<string, number>;
  /** 503 responses without a valid Retry-After (a positive integer). */
  missing503RetryAfter: number;
  /** Latencies (ms) of 200s that completed inside the window, all and by image size. */
  latencies: number[];
  latenciesBySize: Record<string, number[]>;
  /** Latencies (ms) of every 200, warm-up and drain included. */
  allOk: number[];
  windowSeconds: number;
  requests: number;
}

interface Outcome {
  status: number | null;
  error?: string;
  retryAfter?: string;
  ms: number;
  endedAt: number;
}

function send(agent: Agent, url: URL, upload: Upload, timeoutMs: number): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: Omit<Outcome, 'ms' | 'endedAt'>) => {
      if (done) return;
      done = true;
      const endedAt = performance.now();
      resolve({ ...o, ms: endedAt - started, endedAt });
    };
    const req = request({ host: url.hostname, port: url.port, path: '/predict', method: 'POST', agent, headers: upload.headers });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => finish({ status: null, error: err.code ?? err.message }));
    req.on('response', (res) => {
      const retryAfter = res.headers['retry-after'];
      res.on('error', (err: NodeJS.ErrnoException) => finish({ status: null, error: err.code ?? err.message }));
      res.on('end', () => finish({ status: res.statusCode ?? 0, ...(retryAfter !== undefined && { retryAfter }) }));
      res.resume(); // the body is not needed: status and timing are
    });
    req.end(upload.payload);
  });
}

/**
 * Closed-loop load: `concurrency` clients, each sending its next upload as soon as the previous
 * one is answered, over keep-alive connections. Kept cheap: it shares the CPU with the server.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const url = new URL(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency, maxFreeSockets: o.concurrency });
  const statuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const latencies: number[] = [];
  const latenciesBySize: Record<string, number[]> = {};
  const allOk: number[] = [];
  let missing503RetryAfter = 0;
  let next = 0;
  const t0 = performance.now();
  const windowStart = t0 + o.warmupMs;
  const windowEnd = windowStart + o.measureMs;
  let opened: Promise<void> | undefined;
  const startTimer = setTimeout(() => {
    opened = o.onWindowStart?.() ?? Promise.resolve();
  }, o.warmupMs);

  const client = async () => {
    while (performance.now() < windowEnd && next < o.maxRequests) {
      const upload = o.uploads[next++ % o.uploads.length]!;
      const r = await send(agent, url, upload, o.timeoutMs);
      if (r.status === null) errors[r.error ?? 'unknown'] = (errors[r.error ?? 'unknown'] ?? 0) + 1;
      else statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      if (r.status === 503 && !/^[1-9]\d*$/.test(r.retryAfter ?? '')) missing503RetryAfter++;
      if (r.status === 200) allOk.push(r.ms);
      if (r.status === 200 && r.endedAt >= windowStart && r.endedAt <= windowEnd) {
        latencies.push(r.ms);
        (latenciesBySize[upload.size] ??= []).push(r.ms);
      }
    }
  };
  const clients = Promise.all(Array.from({ length: o.concurrency }, client));
  // The window closes on time even if answers stop coming; the drain that follows is not measured.
  await Promise.race([clients, new Promise((resolve) => setTimeout(resolve, Math.max(0, windowEnd - performance.now())))]);
  clearTimeout(startTimer);
  const windowSeconds = Math.max(0, Math.min(performance.now(), windowEnd) - windowStart) / 1000;
  // A window that never opened (every request sent during warm-up) has nothing to close.
  const closed = opened?.then(() => o.onWindowEnd?.());
  await clients;
  await closed;
  agent.destroy();
  return { statuses, errors, missing503RetryAfter, latencies, latenciesBySize, allOk, windowSeconds, requests: next };
}
