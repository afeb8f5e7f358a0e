import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CompiledQuery, sql } from 'kysely';
import { type StoreLocation, openStore, parseDatabaseUrl } from '../src/store/dialect.js';
import { migrateToLatest } from '../src/store/migrations.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { ROOT } from './plan.js';
import { vmRssKb } from './proc.js';
import { startServer } from './server-process.js';
import { round, summarize } from './stats.js';

/*
 * npm run bench:history: the history at scale, on SQLite and on PostgreSQL. Fills each with
 * HISTORY_RECORDS (default 1,000,000) records from 100 sensors, starts the production build on
 * it, and measures over HTTP:
 *   - a full streamed read in each format: records/s and the server's RSS growth while it streams;
 *   - filtered pages (one sensor among 100, newest first, deep cursors, a time window): latency;
 *   - GET /sensors: latency.
 * Targets (issue 5): ≥ 100 k records/s, ≤ 50 MB RSS growth, a filtered page ≤ 50 ms.
 */

const RECORDS = Number(process.env.HISTORY_RECORDS ?? 1_000_000);
const SENSORS = 100;
const PAGE_REQUESTS = 40;
const RESULTS = join(ROOT, 'bench/results');
const progress = (line: string) => process.stderr.write(`${line}\n`);

const COLUMNS = sql.raw(`uid, timestamp, sensor_id, prediction, confidence, p_leak, severity, leak_threshold,
  severity_low_threshold, severity_high_threshold, image_sha256, image_width, image_height, model_sha256`);

/** Fills the store: one record every 2.6 s of 30 days, sensors round-robin, 10% of each sensor's records Leak (half of them high). */
async function fill(location: StoreLocation): Promise<void> {
  const store = await openStore(location, { synchronous: 'NORMAL' });
  await migrateToLatest(store.db);
  const n = RECORDS - 1;
  const sha = 'a'.repeat(64);
  if (location.dialect === 'sqlite') {
    await sql`with recursive n(i) as (select 0 union all select i + 1 from n where i < ${n})
      insert into predictions (${COLUMNS})
      select 'bench-' || i, strftime('%Y-%m-%dT%H:%M:%fZ', 1764000000 + i * 2.6, 'unixepoch'), printf('sensor-%03d', i % ${SENSORS}),
        case when (i / ${SENSORS}) % 10 = 0 then 'Leak' else 'Normal' end, 0.9, case when (i / ${SENSORS}) % 10 = 0 then 0.9 else 0.1 end,
        case when (i / ${SENSORS}) % 20 = 0 then 'high' when (i / ${SENSORS}) % 10 = 0 then 'low' else 'none' end, 0.5, 0.5, 0.9, ${sha}, 224, 224, ${sha}
      from n`.execute(store.db);
  } else {
    await sql`insert into predictions (${COLUMNS})
      select 'bench-' || i, to_char(to_timestamp(1764000000 + i * 2.6) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'sensor-' || lpad((i % ${SENSORS})::text, 3, '0'),
        case when (i / ${SENSORS}) % 10 = 0 then 'Leak' else 'Normal' end, 0.9, case when (i / ${SENSORS}) % 10 = 0 then 0.9 else 0.1 end,
        case when (i / ${SENSORS}) % 20 = 0 then 'high' when (i / ${SENSORS}) % 10 = 0 then 'low' else 'none' end, 0.5, 0.5, 0.9, ${sha}, 224, 224, ${sha}
      from generate_series(0, ${n}) as i`.execute(store.db);
  }
  // The running totals the inserts above bypassed, as migration 2 computes them.
  await sql`insert into sensor_stats (sensor_id, prediction, severity, count, first_seen, last_seen, last_id)
    select sensor_id, prediction, severity, count(*), min(timestamp), max(timestamp), max(id)
    from predictions group by sensor_id, prediction, severity`.execute(store.db);
  await store.db.executeQuery(CompiledQuery.raw('analyze'));
  await store.close();
}

const rssMb = (pid: number): number => (vmRssKb(pid) ?? Number.NaN) / 1024;

/** GETs a URL, reading and dropping the body; counts records by their separators. */
function fetchCounting(url: string, accept?: string): Promise<{ status: number; bytes: number; records: number; ms: number; link: string | undefined }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    get(url, { headers: accept ? { accept } : {} }, (res) => {
      let bytes = 0;
      let records = 0;
      const sep = String(res.headers['content-type']).startsWith('application/json') ? 0x7b /* { */ : 0x0a /* \n */;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        for (let i = chunk.indexOf(sep); i !== -1; i = chunk.indexOf(sep, i + 1)) records++;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, records, ms: performance.now() - started, link: typeof res.headers.link === 'string' ? res.headers.link : undefined }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

interface StreamResult { format: string; records: number; seconds: number; recordsPerSecond: number; mb: number; rssBeforeMb: number; rssPeakMb: number; rssGrowthMb: number }

async function measureStream(url: string, pid: number, format: string): Promise<StreamResult> {
  const before = rssMb(pid);
  let peak = before;
  const timer = setInterval(() => { peak = Math.max(peak, rssMb(pid)); }, 50);
  const res = await fetchCounting(`${url}/prediction_history?format=${format}`);
  clearInterval(timer);
  peak = Math.max(peak, rssMb(pid));
  if (res.status !== 200) throw new Error(`stream ${format}: HTTP ${res.status}`);
  // CSV counts its header line; NDJSON and JSON count records.
  const records = format === 'csv' ? res.records - 1 : res.records;
  if (records !== RECORDS) throw new Error(`stream ${format}: ${records} records, expected ${RECORDS}`);
  return {
    format, records, seconds: round(res.ms / 1000), recordsPerSecond: Math.round(records / (res.ms / 1000)),
    mb: round(res.bytes / 1e6, 1), rssBeforeMb: round(before, 1), rssPeakMb: round(peak, 1), rssGrowthMb: round(peak - before, 1),
  };
}

async function measurePages(url: string, name: string, path: string) {
  const times: number[] = [];
  for (let i = 0; i < PAGE_REQUESTS; i++) {
    const res = await fetchCounting(`${url}${path}`);
    if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status}`);
    times.push(res.ms);
  }
  const s = summarize(times);
  return { name, path, p50Ms: round(s.p50), p95Ms: round(s.p95), maxMs: round(s.max) };
}

/** The URL of the page `depth` pages into a paged query, by following its Link headers. */
async function deepPage(url: string, path: string, depth: number): Promise<string> {
  let next = path;
  for (let i = 0; i < depth; i++) {
    const res = await fetchCounting(`${url}${next}`);
    const m = /^<([^>]+)>/.exec(res.link ?? '');
    if (!m) break;
    next = m[1]!;
  }
  return next;
}

async function benchDialect(name: string, databaseUrl: string) {
  const t0 = performance.now();
  await fill(parseDatabaseUrl(databaseUrl));
  progress(`${name}: ${RECORDS} records written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const server = await startServer(join(ROOT, 'models/resnet18_binary_finetuned.onnx'), { DATABASE_URL: databaseUrl, INFERENCE_THREADS: '1' });
  try {
    const streams = [];
    for (const format of ['json', 'ndjson', 'csv']) {
      const r = await measureStream(server.url, server.pid, format);
      progress(`${name}: stream ${format}: ${r.recordsPerSecond} records/s, RSS +${r.rssGrowthMb} MB`);
      streams.push(r);
    }
    const mid = new Date((1764000000 + (RECORDS / 2) * 2.6) * 1000).toISOString();
    const later = new Date((1764000000 + (RECORDS / 2) * 2.6 + 3600) * 1000).toISOString();
    const deep = await deepPage(server.url, '/prediction_history?sensor_id=sensor-042&limit=100&order=desc', 50);
    const pages = [
      await measurePages(server.url, 'one sensor, oldest 100', '/prediction_history?sensor_id=sensor-042&limit=100'),
      await measurePages(server.url, 'one sensor, newest 100', '/prediction_history?sensor_id=sensor-042&limit=100&order=desc'),
      await measurePages(server.url, 'one sensor, Leak only, newest 100', '/prediction_history?sensor_id=sensor-042&prediction=Leak&limit=100&order=desc'),
      await measurePages(server.url, 'one sensor, a value it never had', '/prediction_history?sensor_id=sensor-042&prediction=Unknown&limit=100&order=desc'),
      await measurePages(server.url, 'all sensors, high severity, newest 100', '/prediction_history?severity=high&limit=100&order=desc'),
      await measurePages(server.url, 'one sensor, 50 pages deep (cursor)', deep),
      await measurePages(server.url, 'two sensors, newest 100', '/prediction_history?sensor_id=sensor-042&sensor_id=sensor-007&limit=100&order=desc'),
      await measurePages(server.url, 'one hour of all sensors', `/prediction_history?since=${mid}&until=${later}&limit=100`),
      await measurePages(server.url, 'GET /sensors (100 sensors)', '/sensors'),
    ];
    for (const p of pages) progress(`${name}: ${p.name}: p50 ${p.p50Ms} ms, p95 ${p.p95Ms} ms`);
    return { dialect: name, records: RECORDS, streams, pages };
  } finally {
    await server.stop();
  }
}

const results = [];
const sqliteDir = await mkdtemp(join(tmpdir(), 'leakwatch-hbench-'));
try {
  results.push(await benchDialect('SQLite', `sqlite:${join(sqliteDir, 'history.db')}`));
} finally {
  await rm(sqliteDir, { recursive: true, force: true });
}
const pg = await startPostgres();
try {
  results.push(await benchDialect('PostgreSQL', await pg.createDatabase()));
} finally {
  await pg.close();
}

const targets = {
  recordsPerSecond: 100_000, rssGrowthMb: 50, pageP95Ms: 50,
};
const lines = ['| dialect | what | figure | target | |', '| --- | --- | --- | --- | --- |'];
const mark = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
for (const r of results) {
  for (const s of r.streams) {
    lines.push(`| ${r.dialect} | stream ${s.format} (${s.mb} MB) | ${s.recordsPerSecond.toLocaleString('en')} records/s | ≥ 100,000 | ${mark(s.recordsPerSecond >= targets.recordsPerSecond)} |`);
    lines.push(`| ${r.dialect} | RSS growth while streaming ${s.format} | ${s.rssGrowthMb} MB (${s.rssBeforeMb} → ${s.rssPeakMb}) | ≤ 50 MB | ${mark(s.rssGrowthMb <= targets.rssGrowthMb)} |`);
  }
  for (const p of r.pages) lines.push(`| ${r.dialect} | ${p.name} | p50 ${p.p50Ms} ms, p95 ${p.p95Ms} ms | ≤ 50 ms | ${mark(p.p95Ms <= targets.pageP95Ms)} |`);
}
process.stdout.write(`History at ${RECORDS.toLocaleString('en')} records, ${SENSORS} sensors\n\n${lines.join('\n')}\n`);
await mkdir(RESULTS, { recursive: true });
await writeFile(join(RESULTS, 'history.json'), JSON.stringify({ date: new Date().toISOString(), records: RECORDS, targets, results }, null, 2) + '\n');
