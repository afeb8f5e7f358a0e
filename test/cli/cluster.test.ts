import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { PredictionRecord } from '../../src/store/record.js';
import { startServerProcess } from '../helpers/cli.js';
import { patternPng } from '../helpers/images.js';
import { predictForm } from '../helpers/multipart.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * A request, by default on a connection of its own: the cluster's primary hands connections to
 * the workers in turn, so fresh connections spread requests over both.
 */
function send(url: string, { agent = false, method = 'GET', body, headers = {} }: { agent?: Agent | false; method?: string; body?: Buffer; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { agent, method, headers: { ...headers, ...(agent ? {} : { connection: 'close' }) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    }).on('error', reject).end(body);
  });
}
const get = (url: string, agent: Agent | false = false) => send(url, { agent });

/** The samples of a metric in Prometheus text: labels as written, and values. */
function samples(text: string, name: string): { labels: string; value: number }[] {
  return [...text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))].map((m) => ({ labels: m[1] ?? '', value: Number(m[2]) }));
}
const total = (text: string, name: string) => samples(text, name).reduce((n, s) => n + s.value, 0);

describe('leakwatch serve --workers', () => {
  it('serves one port from two processes that share one history and one /metrics, and stops on SIGTERM', async (t) => {
    const dir = tempDir(t);
    const server = await startServerProcess({ DATABASE_URL: `sqlite:${join(dir, 'p.db')}`, WORKERS: '2' });
    try {
      // Each worker logs its own "listening" line (pino adds its pid); the first one is enough to start.
      const deadline = Date.now() + 20_000;
      while ((server.output().match(/Server listening/g) ?? []).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const pids = new Set([...server.output().matchAll(/"pid":(\d+)[^\n]*Server listening/g)].map((m) => m[1]));
      assert.equal(pids.size, 2, server.output());
      const results = await Promise.all(Array.from({ length: 8 }, async (_, i) => {
        const { payload, headers } = predictForm(patternPng(48, 48, i + 1), 'multi');
        return send(`${server.url}/predict`, { method: 'POST', body: payload, headers });
      }));
      assert.deepEqual(results.map((r) => r.status), Array(8).fill(200));
      const rows = JSON.parse((await get(`${server.url}/prediction_history`)).body) as PredictionRecord[];
      assert.equal(rows.length, 8);

      // Both processes classified some of the eight uploads, so no one process's metrics hold all eight.
      const served = new Set([...server.output().matchAll(/"pid":(\d+)[^\n]*"url":"\/predict"[^\n]*"msg":"incoming request"/g)].map((m) => m[1]));
      assert.equal(served.size, 2, 'the uploads should have been spread over both workers');
      // Every scrape, whichever process answers it, counts all of them, and the model once.
      for (let i = 0; i < 4; i++) {
        const { status, body } = await get(`${server.url}/metrics`);
        assert.equal(status, 200, body);
        assert.equal(total(body, 'leakwatch_predictions_total'), 8, body);
        assert.deepEqual(samples(body, 'leakwatch_http_request_duration_seconds_count').filter((s) => s.labels.includes('route="/predict"')).map((s) => s.value), [8]);
        assert.equal(samples(body, 'leakwatch_model_info').length, 1);
        assert.equal(samples(body, 'leakwatch_model_info')[0]!.value, 1);
        assert.deepEqual(samples(body, 'leakwatch_cluster_workers_reporting'), [{ labels: '', value: 2 }]);
        assert.ok(total(body, 'leakwatch_process_resident_memory_bytes') > 0, 'process metrics, summed');
      }

      // A primary that does not answer (stopped here) costs a scrape a clear 503, not a hang. The
      // stopped primary accepts no connections (it hands them out), so the scrape comes on one kept alive.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      t.after(() => agent.destroy());
      assert.equal((await get(`${server.url}/healthz`, agent)).status, 200);
      process.kill(server.child.pid!, 'SIGSTOP');
      try {
        const { status, body } = await get(`${server.url}/metrics`, agent);
        assert.equal(status, 503, body);
        assert.equal((JSON.parse(body) as { code: string }).code, 'metrics_unavailable');
      } finally {
        process.kill(server.child.pid!, 'SIGCONT');
      }
      assert.equal((await get(`${server.url}/metrics`, agent)).status, 200);
    } finally {
      assert.equal(await server.stop('SIGTERM'), 0);
    }
  });
});
