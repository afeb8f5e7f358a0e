import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { type ServerProcess, startServerProcess } from '../helpers/cli.js';
import { patternPng, solidPng } from '../helpers/images.js';
import { predictForm } from '../helpers/multipart.js';

const exec = promisify(execFile);

describe('leakwatch serve on a real socket', () => {
  let server: ServerProcess;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'leakwatch-e2e-'));
    server = await startServerProcess({ DATABASE_URL: `sqlite:${join(dir, 'predictions.db')}` });
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the specification\'s curl example unchanged', async () => {
    // The specification makes test_image.png with PIL: Image.new('RGB', (224, 224), color=(0, 0, 255)).
    writeFileSync(join(dir, 'test_image.png'), solidPng(224, 224, [0, 0, 255]));
    const { stdout } = await exec('curl', [
      '-sS', '-X', 'POST', `http://localhost:${server.port}/predict`,
      '-H', 'accept: application/json',
      '-H', 'Content-Type: multipart/form-data',
      '-F', 'file=@test_image.png;type=image/png',
      '-F', 'sensor_id=sensorX_123',
    ], { cwd: dir });
    const body = JSON.parse(stdout) as Record<string, unknown>;
    assert.ok(body.prediction === 'Leak' || body.prediction === 'Normal', stdout);
    assert.equal(body.sensor_id, 'sensorX_123');
    assert.equal(typeof body.confidence, 'number');
    assert.ok(['none', 'low', 'high'].includes(String(body.severity)));
    assert.ok(!Number.isNaN(Date.parse(String(body.timestamp))));

    const history = await (await fetch(`${server.url}/prediction_history`)).json() as Record<string, unknown>[];
    assert.deepEqual(history.at(-1), body);
    const banner = await (await fetch(`${server.url}/`)).json();
    assert.deepEqual(banner, { message: 'ONNX Binary Classifier API is running. Go to /docs for interactive API documentation.' });
  });

  it('keeps answering GET / and GET /healthz while inference is saturated', async () => {
    let pending = 0;
    const predictions = Array.from({ length: 48 }, async (_, i) => {
      pending++;
      const { payload, headers } = predictForm(patternPng(224, 224, 100 + i), 'busy');
      const res = await fetch(`${server.url}/predict`, { method: 'POST', body: payload, headers });
      pending--;
      return res.status;
    });
    // Inference runs on worker threads, so the event loop answers these while the queue is full.
    for (const path of ['/healthz', '/', '/healthz']) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 200);
      assert.ok(pending > 0, `${path} answered only after every prediction had finished`);
    }
    assert.deepEqual(new Set(await Promise.all(predictions)), new Set([200]));
  });

  it('answers 200 only for records that are on disk', async () => {
    const before = new Database(join(dir, 'predictions.db'), { readonly: true });
    const count = () => before.prepare('select count(*) from predictions').pluck().get() as number;
    const n = count();
    const { payload, headers } = predictForm(patternPng(100, 80, 5), 'durable');
    const res = await fetch(`${server.url}/predict`, { method: 'POST', body: payload, headers });
    assert.equal(res.status, 200);
    // Read through another connection, as another process would after a crash.
    assert.equal(count(), n + 1);
    before.close();
  });

  it('drains on SIGTERM and exits 0', async () => {
    const arrivals = () => server.output().split('"url":"/predict"').length;
    const seen = arrivals();
    const inflight = Array.from({ length: 6 }, (_, i) => {
      const { payload, headers } = predictForm(patternPng(224, 224, 300 + i), 'draining');
      return fetch(`${server.url}/predict`, { method: 'POST', body: payload, headers }).then((r) => r.status);
    });
    // Signal only once the server has seen all six arrive (it logs each incoming request).
    while (arrivals() < seen + 6) await new Promise((r) => setTimeout(r, 5));
    const code = await server.stop('SIGTERM');
    assert.equal(code, 0, server.output().split('\n').slice(-8).join('\n'));
    const statuses = await Promise.all(inflight);
    assert.ok(statuses.every((s) => s === 200), `in-flight requests finished: ${statuses.join(',')}`);
    const db = new Database(join(dir, 'predictions.db'), { readonly: true });
    assert.equal(db.prepare("select count(*) from predictions where sensor_id = 'draining'").pluck().get(), 6);
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
  });
});
