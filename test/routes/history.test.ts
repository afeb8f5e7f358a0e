import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PredictionRecord } from '../../src/store/record.js';
import { type TestApp, build } from '../helpers/build-app.js';
import { patternPng } from '../helpers/images.js';
import { predictForm } from '../helpers/multipart.js';

describe('GET /prediction_history', () => {
  let t: TestApp;
  const posted: PredictionRecord[] = [];
  before(async () => {
    t = await build();
    for (let i = 0; i < 12; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/predict', ...predictForm(patternPng(48, 48, i + 1), `sensor-${i % 3}`) });
      assert.equal(res.statusCode, 200);
      posted.push(res.json());
    }
  });
  after(() => t.close());

  const get = async (query = '') => {
    const res = await t.app.inject({ method: 'GET', url: `/prediction_history${query}` });
    return res;
  };

  it('returns every record as a JSON array, oldest first', async () => {
    const res = await get();
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const rows = res.json<PredictionRecord[]>();
    assert.deepEqual(rows, posted);
    for (const r of rows) {
      for (const key of ['timestamp', 'sensor_id', 'confidence', 'severity', 'prediction'] as const) assert.ok(key in r);
    }
  });

  it('returns [] for an empty history', async (ctx) => {
    const empty = await build(ctx);
    const res = await empty.app.inject({ method: 'GET', url: '/prediction_history' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '[]');
  });

  it('filters by sensor_id, prediction and severity, and limits', async () => {
    assert.deepEqual((await get('?sensor_id=sensor-1')).json(), posted.filter((p) => p.sensor_id === 'sensor-1'));
    assert.deepEqual((await get('?sensor_id=unknown')).json(), []);
    for (const prediction of ['Leak', 'Normal']) {
      assert.deepEqual((await get(`?prediction=${prediction}`)).json(), posted.filter((p) => p.prediction === prediction));
    }
    for (const severity of ['none', 'low', 'high']) {
      assert.deepEqual((await get(`?severity=${severity}`)).json(), posted.filter((p) => p.severity === severity));
    }
    assert.deepEqual((await get('?limit=5')).json(), posted.slice(0, 5));
    assert.deepEqual((await get('?sensor_id=sensor-2&limit=2')).json(), posted.filter((p) => p.sensor_id === 'sensor-2').slice(0, 2));
  });

  it('filters by since and until, inclusive, in any ISO 8601 zone', async () => {
    const mid = posted[6]!.timestamp;
    assert.deepEqual((await get(`?since=${encodeURIComponent(mid)}`)).json(), posted.filter((p) => p.timestamp >= mid));
    assert.deepEqual((await get(`?until=${encodeURIComponent(mid)}`)).json(), posted.filter((p) => p.timestamp <= mid));
    const shifted = new Date(Date.parse(mid) + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    assert.deepEqual((await get(`?since=${encodeURIComponent(shifted)}`)).json(), posted.filter((p) => p.timestamp >= mid));
    assert.deepEqual((await get('?since=2000-01-01&until=2000-01-02')).json(), []);
  });

  it('400 with {code, message} for bad parameters', async () => {
    const bad = [
      '?limit=abc', '?limit=0', '?limit=-1', '?limit=1.5', '?since=garbage', '?until=2026-13-01',
      '?since=2026-02-30', '?severity=critical', '?since=2026-02-01&until=2026-01-01', '?sensor_id=a&sensor_id=b',
    ];
    for (const q of bad) {
      const res = await get(q);
      assert.equal(res.statusCode, 400, `${q}: ${res.body}`);
      const body = res.json<{ code: string; message: string }>();
      assert.equal(body.code, 'invalid_parameter', q);
      assert.match(body.message, /^Invalid query parameter '(limit|since|until|severity|sensor_id)'/, q);
    }
  });

  it('treats injection attempts as plain values', async () => {
    const res = await get(`?sensor_id=${encodeURIComponent("' OR 1=1 --")}`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), []);
  });
});
