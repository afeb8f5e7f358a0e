import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PredictionRecord } from '../../src/store/record.js';
import { type ServerProcess, startServerProcess } from '../helpers/cli.js';
import { patternPng } from '../helpers/images.js';
import { predictForm } from '../helpers/multipart.js';
import { type TestPostgres, startPostgres } from '../helpers/postgres.js';

const predict = async (server: ServerProcess, seed: number, sensor: string) => {
  const { payload, headers } = predictForm(patternPng(64, 64, seed), sensor);
  // A bound on the wait: a request must never hang, whatever the database does.
  return fetch(`${server.url}/predict`, { method: 'POST', body: payload, headers, signal: AbortSignal.timeout(20_000) });
};

const history = async (server: ServerProcess) =>
  (await (await fetch(`${server.url}/prediction_history`)).json()) as PredictionRecord[];

async function until(check: () => Promise<boolean>, what: string, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(200);
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('two server processes on one PostgreSQL', () => {
  let pg: TestPostgres;
  let servers: ServerProcess[] = [];
  const acknowledged: PredictionRecord[] = [];
  before(async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase();
    // Both start at once: their migrations race, and the migration lock must serialize them.
    servers = await Promise.all([0, 1].map(() => startServerProcess({ DATABASE_URL: url, INFERENCE_THREADS: '1' })));
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await pg.close();
  });

  it('records a prediction sent to either exactly once, and both read the same history', async () => {
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => predict(servers[i % 2]!, i + 1, `line-${i % 4}`)));
    for (const res of results) {
      assert.equal(res.status, 200);
      acknowledged.push((await res.json()) as PredictionRecord);
    }
    const [a, b] = await Promise.all(servers.map(history));
    assert.deepEqual(a, b);
    assert.equal(a!.length, 16);
    assert.deepEqual(new Set(a!.map((r) => r.uid)), new Set(acknowledged.map((r) => r.uid)));
    assert.equal(new Set(a!.map((r) => r.id)).size, 16, 'ids are unique across instances');
    const sensors = await Promise.all(servers.map(async (s) => (await fetch(`${s.url}/sensors`)).json() as Promise<{ sensor_id: string; count: number }[]>));
    assert.deepEqual(sensors[0], sensors[1]);
    assert.deepEqual(sensors[0]!.map((s) => [s.sensor_id, s.count]), [['line-0', 4], ['line-1', 4], ['line-2', 4], ['line-3', 4]]);
  });

  it('answers 503 without hanging while PostgreSQL is down, turns unready, and recovers without a restart', async () => {
    // Under load: 8 clients keep posting to both servers while PostgreSQL stops under them.
    const statuses: number[] = [];
    let loading = true;
    const clients = Array.from({ length: 8 }, async (_, c) => {
      for (let i = 0; loading; i++) {
        const res = await predict(servers[c % 2]!, 1000 + c * 1000 + i, `load-${c}`);
        statuses.push(res.status);
        if (res.status === 200) acknowledged.push((await res.json()) as PredictionRecord);
        else await res.arrayBuffer();
      }
    });
    await until(async () => statuses.length >= 8, 'load to start');
    await pg.stopServer();
    const atStop = statuses.length;
    await until(async () => statuses.length >= atStop + 16, 'answers while PostgreSQL is down');
    loading = false;
    await Promise.all(clients);
    assert.ok(statuses.every((s) => s === 200 || s === 503), `only 200 and 503 under the outage: ${statuses.join(',')}`);
    assert.ok(statuses.slice(atStop).includes(503));

    for (const server of servers) {
      const res = await predict(server, 99, 'during-outage');
      assert.equal(res.status, 503);
      const body = (await res.json()) as { code: string; message: string };
      assert.equal(body.code, 'store_unavailable');
      assert.equal(res.headers.get('retry-after'), '5');
      const ready = await fetch(`${server.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { model: 'ok', store: 'unreachable' });
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'alive: the process does not need a restart');
    }
    await pg.startServer();
    for (const server of servers) {
      await until(async () => (await fetch(`${server.url}/readyz`)).status === 200, 'readiness after PostgreSQL returns');
      const res = await predict(server, 100, 'after-outage');
      assert.equal(res.status, 200);
      acknowledged.push((await res.json()) as PredictionRecord);
    }
    const rows = await history(servers[0]!);
    const stored = new Map(rows.map((r) => [r.uid, r]));
    for (const a of acknowledged) assert.deepEqual(stored.get(a.uid), a, 'every acknowledged record is stored, unchanged');
    // A commit cut off by the stop may have landed without its 200 reaching the client (an
    // ambiguous commit); nothing else may be there.
    const extra = rows.filter((r) => !acknowledged.some((a) => a.uid === r.uid));
    assert.ok(extra.every((r) => r.sensor_id.startsWith('load-')), `unexpected records: ${JSON.stringify(extra)}`);
    assert.equal(rows.filter((r) => r.sensor_id === 'during-outage').length, 0);
    for (const s of servers) assert.equal(s.child.exitCode, null);
  });
});
