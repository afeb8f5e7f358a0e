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
    await pg.stopServer();
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
    assert.deepEqual(new Set(rows.map((r) => r.uid)), new Set(acknowledged.map((r) => r.uid)), 'every acknowledged record, none from the outage');
    for (const s of servers) assert.equal(s.child.exitCode, null);
  });
});
