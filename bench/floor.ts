import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImageSets } from './images.js';
import { IpcChild } from './ipc-child.js';
import { runLoad } from './load.js';
import { ROOT, loadPlan } from './plan.js';
import { measureRaw } from './raw-baseline.js';
import { startServer } from './server-process.js';
import { median, percentile, round } from './stats.js';

/*
 * npm run bench:floor: how much of issue 4's single-client bar, 1.15 × (raw ONNX Runtime batch 1 +
 * decode of a 224×224 PNG), is left for everything else, measured against the least a durable
 * server can do (bench/floor-server.ts: node:http, no framework, no checks, one inference worker,
 * a synchronous fsync'd SQLite commit on the event loop). Raw ONNX Runtime is timed as the main
 * bench times it (batch 1, fastest thread count and spinning, the better of two timings). Then
 * the floor server and the service (the production build, defaults) are driven in turn by one
 * closed-loop client with the same 224×224 uploads, FLOOR_ROUNDS times (default 4) and in
 * alternating order, so that a slow spell of the VM falls on both: p50 latency of each, per round.
 * Results: stdout and bench/results/floor.json.
 */

const ROUNDS = Number(process.env.FLOOR_ROUNDS ?? 4);
const plan = loadPlan(process.env);
const log = (line: string) => process.stdout.write(`${line}\n`);

const raw = await measureRaw({ ...plan, raw: { ...plan.raw, batches: [1], parallel: false } }, log);
const decodeMs = raw.decode.find((d) => d.width === 224)!.totalMs;
const bar = 1.15 * (raw.batch1.msPerBatch + decodeMs);
log(`bar: 1.15 × (${raw.batch1.msPerBatch.toFixed(2)} + ${decodeMs.toFixed(2)}) = ${bar.toFixed(2)} ms`);

const uploads = buildImageSets(plan.load.imagesPerSize).find((s) => s.name === '224')!.uploads;
const dir = await mkdtemp(join(tmpdir(), 'leakwatch-floor-'));
const floor = new IpcChild<{ type: 'start'; modelPath: string; dbPath: string } | { type: 'exit' }, { type: 'listening'; url: string }>('./floor-server.ts');
let service: Awaited<ReturnType<typeof startServer>> | undefined;
type Row = { round: number; server: string; p50: number; p99: number; n: number };
const rows: Row[] = [];
try {
  service = await startServer(plan.modelPath);
  const { url: floorUrl } = await floor.request({ type: 'start', modelPath: plan.modelPath, dbPath: join(dir, 'floor.db') }, 'listening');
  const servers = [{ name: 'floor', url: floorUrl }, { name: 'leakwatch', url: service.url }];
  for (let turn = 1; turn <= ROUNDS; turn++) {
    for (const s of turn % 2 === 1 ? servers : [...servers].reverse()) {
      const r = await runLoad({ url: s.url, uploads, concurrency: 1, warmupMs: plan.warmupSeconds * 1000, measureMs: plan.cellSeconds * 1000, maxRequests: 100_000, timeoutMs: 60_000 });
      const ok = r.statuses['200'] ?? 0;
      if (ok !== r.requests) throw new Error(`${s.name}: ${JSON.stringify(r.statuses)} ${JSON.stringify(r.errors)}`);
      const sorted = [...r.latencies].sort((a, b) => a - b);
      const row = { round: turn, server: s.name, p50: round(median(sorted)), p99: round(percentile(sorted, 99)), n: sorted.length };
      rows.push(row);
      log(`round ${turn} ${s.name.padEnd(9)} c=1 p50 ${row.p50.toFixed(2)} ms, p99 ${row.p99.toFixed(2)} ms (${row.n} requests)`);
    }
  }
} finally {
  await floor.close({ type: 'exit' });
  await service?.stop();
  await rm(dir, { recursive: true, force: true });
}
const of = (name: string) => median(rows.filter((r) => r.server === name).map((r) => r.p50));
const summary = { floor: of('floor'), leakwatch: of('leakwatch') };
log(`median of the rounds' p50: floor ${summary.floor.toFixed(2)} ms (${(summary.floor / bar).toFixed(3)} × the bar), leakwatch ${summary.leakwatch.toFixed(2)} ms (${(summary.leakwatch / bar).toFixed(3)} × the bar); bar ${bar.toFixed(2)} ms`);
log(`room the bar leaves beyond raw batch 1 + decode: ${(bar - raw.batch1.msPerBatch - decodeMs).toFixed(2)} ms; the floor uses ${(summary.floor - raw.batch1.msPerBatch - decodeMs).toFixed(2)}, the service ${(summary.leakwatch - raw.batch1.msPerBatch - decodeMs).toFixed(2)}`);
await writeFile(join(ROOT, 'bench/results/floor.json'), `${JSON.stringify({ date: new Date().toISOString(), batch1: { ...raw.batch1, msPerBatch: round(raw.batch1.msPerBatch), imgPerSec: round(raw.batch1.imgPerSec) }, decode224Ms: round(decodeMs), bar: round(bar), rows, summary }, null, 2)}\n`);
