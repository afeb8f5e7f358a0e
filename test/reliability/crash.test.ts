/**
 * Crash safety of the SQLite history (issue 6, point 4): `leakwatch serve` runs as a separate
 * process, as deployed, under 16 concurrent clients uploading different images.
 *   - SIGKILL while requests are in flight, several rounds on the same file: every response that
 *     came back 200 is in the history after a restart, field for field; the database passes
 *     `integrity_check`; the restarted server accepts new predictions.
 *   - SIGTERM drains: every request accepted before the signal completes with 200 and is recorded;
 *     requests sent after it are refused (503 shutting_down, or no connection), never answered 200
 *     without a record; the process exits 0. (test/e2e/serve.test.ts covers the plain drain.)
 * Correctness only: no timing assertions; timeouts only keep a failure from hanging.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { PredictionRecord } from '../../src/store/record.js';
import { type ServerProcess, startServerProcess } from '../helpers/cli.js';
import { patternPng } from '../helpers/images.js';
import { predictForm } from '../helpers/multipart.js';
import { fixtureModel } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp-dir.js';

const CLIENTS = 16;
/** SIGKILL once this many predictions of the round have been acknowledged (each round a little later). */
const KILL_AFTER = [40, 55, 70];
/** No single step may take longer than this: it only keeps a failure from hanging the suite. */
const STEP_TIMEOUT_MS = 60_000;

const serverEnv = (dbPath: string) => ({
  DATABASE_URL: `sqlite:${dbPath}`,
  // A tiny model keeps the shared CPU free: what is under test is the store, not the model.
  MODEL_PATH: fixtureModel('tiny-logits2.onnx'),
  INFERENCE_THREADS: '1',
  // 16 clients in a loop from one address must not be rate limited (where limits exist).
  RATE_LIMIT_PER_IP: '0',
});

type Outcome =
  | { kind: 'response'; status: number; body: string; connection: string | undefined }
  | { kind: 'error'; code: string };

/** One POST /predict over node:http, through `agent` (false: a connection of its own). Never rejects. */
function postPredict(port: number, agent: http.Agent | false, png: Buffer, sensorId: string): Promise<Outcome> {
  const { payload, headers } = predictForm(png, sensorId);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (o: Outcome) => {
      if (!settled) {
        settled = true;
        resolve(o);
      }
    };
    const req = http.request(
      { host: '127.0.0.1', port, path: '/predict', method: 'POST', agent, headers: { ...headers, 'content-length': payload.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => settle({ kind: 'response', status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), connection: res.headers.connection }));
        res.on('error', (err: NodeJS.ErrnoException) => settle({ kind: 'error', code: err.code ?? err.message }));
        res.on('close', () => settle({ kind: 'error', code: 'closed before the body was complete' }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => settle({ kind: 'error', code: err.code ?? err.message }));
    req.setTimeout(STEP_TIMEOUT_MS, () => req.destroy(Object.assign(new Error('timeout'), { code: 'client timeout' })));
    req.end(payload);
  });
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
  return { status: res.status, body: await res.json() };
}

/** Every acknowledged record is in the served history, field for field; no uid appears twice. */
async function assertHistoryHolds(server: ServerProcess, acknowledged: Map<string, PredictionRecord>): Promise<Map<string, PredictionRecord>> {
  const { status, body } = await getJson(`${server.url}/prediction_history`);
  assert.equal(status, 200, 'GET /prediction_history');
  const records = body as PredictionRecord[];
  const byUid = new Map(records.map((r) => [r.uid, r]));
  assert.equal(byUid.size, records.length, 'no uid appears twice in the history');
  assert.equal(new Set(records.map((r) => r.id)).size, records.length, 'no id appears twice in the history');
  const missing = [...acknowledged.keys()].filter((uid) => !byUid.has(uid));
  assert.deepEqual(missing, [], `acknowledged records missing from the history (${missing.length} of ${acknowledged.size})`);
  for (const [uid, r] of acknowledged) assert.deepEqual(byUid.get(uid), r, `the history's record ${uid} is the one acknowledged`);
  return byUid;
}

/**
 * Reads the file as a recovery tool would (read-only: the WAL is left for the server to recover):
 * intact, every acknowledged record present, and the sensor totals (written in the same
 * transaction as each record) agree with the records.
 */
function assertDatabaseSound(dbPath: string, acknowledged: Map<string, PredictionRecord>): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    assert.equal(db.pragma('quick_check', { simple: true }), 'ok');
    const uids = new Set(db.prepare('select uid from predictions').pluck().all() as string[]);
    const missing = [...acknowledged.keys()].filter((uid) => !uids.has(uid));
    assert.deepEqual(missing, [], 'acknowledged records missing from the database file');
    const totals = db.prepare('select sensor_id, sum(count) as n from sensor_stats group by sensor_id order by sensor_id').all();
    const counted = db.prepare('select sensor_id, count(*) as n from predictions group by sensor_id order by sensor_id').all();
    assert.deepEqual(totals, counted, 'sensor_stats agrees with the predictions');
    return uids.size;
  } finally {
    db.close();
  }
}

/** Starts a server that is killed (SIGKILL) when the test ends, however it ends. */
async function startServer(t: TestContext, dbPath: string): Promise<ServerProcess> {
  const server = await startServerProcess(serverEnv(dbPath));
  t.after(async () => {
    await server.stop('SIGKILL');
  });
  return server;
}

let seeds = 0;
/** A different image every call (size and pixels), small enough to keep inference cheap. */
const nextPng = () => {
  const seed = ++seeds;
  return patternPng(32 + (seed % 29), 24 + (seed % 17), seed);
};

async function predictOnce(server: ServerProcess, sensorId: string): Promise<PredictionRecord> {
  const o = await postPredict(server.port, false, nextPng(), sensorId);
  assert.ok(o.kind === 'response' && o.status === 200, `a new prediction: ${JSON.stringify(o)}`);
  return JSON.parse(o.body) as PredictionRecord;
}

describe('crash safety of the SQLite history', () => {
  it('keeps every acknowledged record through SIGKILL under load, round after round', { timeout: 600_000 }, async (t) => {
    const dbPath = join(tempDir(t, 'leakwatch-crash-'), 'p.db');
    const acknowledged = new Map<string, PredictionRecord>();
    const perRound: string[] = [];

    for (const [round, killAfter] of KILL_AFTER.entries()) {
      const server = await startServer(t, dbPath);
      if (round > 0) await assertHistoryHolds(server, acknowledged);
      // The restarted server takes new predictions.
      const fresh = await predictOnce(server, `round-${round}-first`);
      acknowledged.set(fresh.uid, fresh);
      assert.ok((await assertHistoryHolds(server, acknowledged)).has(fresh.uid));

      const agent = new http.Agent({ keepAlive: true });
      let acks = 0;
      let killed = false;
      // Read through a call: the clients' awaits let another client set it.
      const isKilled = () => killed;
      const unexpected: string[] = [];
      const errors = new Map<string, number>();
      const client = async (c: number) => {
        while (!isKilled()) {
          const o = await postPredict(server.port, agent, nextPng(), `round-${round}-client-${c}`);
          if (o.kind === 'error') {
            errors.set(o.code, (errors.get(o.code) ?? 0) + 1);
            // Before the kill, a failed request is a failure; after it, expected.
            if (!isKilled()) unexpected.push(`error before the kill: ${o.code}`);
            return;
          }
          if (o.status !== 200) {
            unexpected.push(`${o.status} ${o.body}`);
            continue;
          }
          // Acknowledged: the server promised this record is durable, even if it dies right now.
          const record = JSON.parse(o.body) as PredictionRecord;
          acknowledged.set(record.uid, record);
          if (++acks >= killAfter && !isKilled()) {
            killed = true;
            server.child.kill('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
      agent.destroy();
      await server.stop('SIGKILL');
      assert.equal(server.child.signalCode, 'SIGKILL', `the server died of the kill, not before it:\n${server.output().slice(-2000)}`);
      assert.deepEqual(unexpected, [], 'every answer before the kill was a 200');
      const inFile = assertDatabaseSound(dbPath, acknowledged);
      perRound.push(`round ${round}: ${acks} acknowledged before/around the kill, cut off: ${JSON.stringify(Object.fromEntries(errors))}, ${inFile} records in the file`);
    }

    // Restart once more on the same file: everything acknowledged is served, and new work is taken.
    const server = await startServer(t, dbPath);
    await assertHistoryHolds(server, acknowledged);
    const last = await predictOnce(server, 'after-the-kills');
    acknowledged.set(last.uid, last);
    await assertHistoryHolds(server, acknowledged);
    assert.equal(await server.stop('SIGTERM'), 0, 'exits 0 on SIGTERM');
    assertDatabaseSound(dbPath, acknowledged);
    t.diagnostic(`${KILL_AFTER.length} kill rounds, ${acknowledged.size} acknowledged records in all`);
    for (const line of perRound) t.diagnostic(line);
  });

  it('drains on SIGTERM: what was accepted completes and is recorded; what comes after is refused, never acknowledged unrecorded', { timeout: 300_000 }, async (t) => {
    const dbPath = join(tempDir(t, 'leakwatch-drain-'), 'p.db');
    const server = await startServer(t, dbPath);
    const arrivals = () => server.output().split('"url":"/predict"').length - 1;

    // Keep-alive connections, opened (and left idle) before the signal.
    const idle = new http.Agent({ keepAlive: true });
    t.after(() => idle.destroy());
    const warm = await Promise.all(Array.from({ length: 4 }, () => new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: server.port, path: '/healthz', agent: idle }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      }).on('error', reject);
    })));
    assert.deepEqual(warm, [200, 200, 200, 200]);

    // Twelve predictions in flight, over keep-alive connections of their own.
    const busy = new http.Agent({ keepAlive: true });
    t.after(() => busy.destroy());
    const seen = arrivals();
    const accepted = Array.from({ length: 12 }, (_, i) => postPredict(server.port, busy, nextPng(), `drain-accepted-${i % 3}`));
    // Signal only once the server has seen all twelve arrive (it logs each incoming request).
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    while (arrivals() < seen + 12) {
      assert.ok(Date.now() < deadline, 'the server never saw the twelve requests arrive');
      await sleep(5);
    }
    server.child.kill('SIGTERM');

    // Sent after the signal: over the idle keep-alive connections, then over new connections, and
    // once more after the server has logged that it drains.
    const late: Promise<Outcome>[] = [];
    for (let i = 0; i < 4; i++) late.push(postPredict(server.port, idle, nextPng(), 'drain-late-keepalive'));
    for (let i = 0; i < 4; i++) late.push(postPredict(server.port, false, nextPng(), 'drain-late-new'));
    while (!server.output().includes('shutting down') && server.child.exitCode === null) await sleep(5);
    for (let i = 0; i < 4; i++) late.push(postPredict(server.port, idle, nextPng(), 'drain-later-keepalive'));
    for (let i = 0; i < 4; i++) late.push(postPredict(server.port, false, nextPng(), 'drain-later-new'));

    const code = await server.stop('SIGTERM');
    assert.equal(code, 0, `exits 0 after draining:\n${server.output().split('\n').slice(-8).join('\n')}`);

    const done = await Promise.all(accepted);
    for (const o of done) assert.ok(o.kind === 'response' && o.status === 200, `a request accepted before SIGTERM: ${JSON.stringify(o)}`);
    const acknowledged = new Map(done.map((o) => {
      const r = JSON.parse((o as { body: string }).body) as PredictionRecord;
      return [r.uid, r] as const;
    }));

    const outcomes = await Promise.all(late);
    const tally = new Map<string, number>();
    for (const o of outcomes) {
      const key = o.kind === 'error' ? `error ${o.code}` : `${o.status}${o.status === 200 ? '' : ` ${(JSON.parse(o.body) as { code: string }).code}`}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
      if (o.kind === 'error') continue;
      if (o.status === 200) {
        // Only possible for a request the server took before it saw the signal: then it is recorded.
        const r = JSON.parse(o.body) as PredictionRecord;
        acknowledged.set(r.uid, r);
        continue;
      }
      assert.equal(o.status, 503, `after SIGTERM: ${o.body}`);
      assert.equal((JSON.parse(o.body) as { code: string }).code, 'shutting_down', o.body);
    }
    t.diagnostic(`after SIGTERM: ${JSON.stringify(Object.fromEntries(tally))}`);

    // Reopen the file: every acknowledged record is there, field for field.
    assertDatabaseSound(dbPath, acknowledged);
    const db = new Database(dbPath, { readonly: true });
    try {
      const rows = db.prepare("select uid from predictions where sensor_id like 'drain-%'").pluck().all() as string[];
      // Nothing refused was recorded: the file holds exactly the acknowledged drain-* records.
      assert.deepEqual(new Set(rows), new Set(acknowledged.keys()));
    } finally {
      db.close();
    }
    const restarted = await startServer(t, dbPath);
    await assertHistoryHolds(restarted, acknowledged);
    assert.equal(await restarted.stop('SIGTERM'), 0);
  });
});
