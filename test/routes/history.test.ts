import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
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
    // A date alone as until is the whole of that day.
    const day = mid.slice(0, 10);
    assert.deepEqual((await get(`?since=${day}&until=${day}`)).json(), posted.filter((p) => p.timestamp.startsWith(day)));
    assert.ok(posted.some((p) => p.timestamp.startsWith(day)));
  });

  it("takes the model's labels in any case as the prediction filter (the specification's example says leak)", async () => {
    let found = 0;
    for (const [asked, label] of [['leak', 'Leak'], ['NORMAL', 'Normal']] as const) {
      const rows = (await get(`?prediction=${asked}`)).json<PredictionRecord[]>();
      assert.deepEqual(rows, posted.filter((p) => p.prediction === label));
      found += rows.length;
    }
    assert.equal(found, posted.length);
    assert.deepEqual((await get('?prediction=gas')).json(), []);
  });

  it('takes several sensor_id values, and order=desc', async () => {
    const two = posted.filter((p) => p.sensor_id !== 'sensor-0');
    assert.deepEqual((await get('?sensor_id=sensor-1&sensor_id=sensor-2')).json(), two);
    assert.deepEqual((await get('?sensor_id=sensor-1&sensor_id=sensor-2&order=desc')).json(), [...two].reverse());
    assert.deepEqual((await get('?order=desc&limit=3')).json(), posted.slice(-3).reverse());
  });

  it('pages with limit and a Link rel="next" header until the last page, in either order', async () => {
    for (const order of ['asc', 'desc'] as const) {
      const expected = order === 'asc' ? posted : [...posted].reverse();
      const seen: PredictionRecord[] = [];
      let url: string | undefined = `/prediction_history?limit=5&order=${order}`;
      let pages = 0;
      while (url) {
        const res: LightMyRequestResponse = await t.app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 200);
        seen.push(...res.json<PredictionRecord[]>());
        pages++;
        const link = res.headers.link as string | undefined;
        url = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
        if (link) assert.ok(url, link);
      }
      assert.equal(pages, 3);
      assert.deepEqual(seen, expected);
    }
    // A page that ends exactly at the last record has no next link.
    assert.equal((await get('?limit=12')).headers.link, undefined);
    // Filters ride along in the next link.
    const first = await get('?sensor_id=sensor-1&limit=2');
    const next = /^<([^>]+)>/.exec(first.headers.link as string)![1]!;
    assert.match(next, /sensor_id=sensor-1/);
    const second = await t.app.inject({ method: 'GET', url: next });
    assert.deepEqual(second.json(), posted.filter((p) => p.sensor_id === 'sensor-1').slice(2, 4));
  });

  it('answers NDJSON or CSV by Accept or format=, and JSON otherwise', async () => {
    const nd = await t.app.inject({ method: 'GET', url: '/prediction_history', headers: { accept: 'application/x-ndjson' } });
    assert.match(String(nd.headers['content-type']), /^application\/x-ndjson/);
    assert.deepEqual(nd.body.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown), posted);
    const csv = await get('?format=csv&limit=2');
    assert.match(String(csv.headers['content-type']), /^text\/csv/);
    const lines = csv.body.trimEnd().split('\r\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[0], 'prediction,confidence,timestamp,sensor_id,severity,id,p_leak,leak_threshold,severity_low_threshold,severity_high_threshold,image_sha256,image_width,image_height,model_sha256,uid');
    const r = posted[0]!;
    assert.equal(lines[1], [r.prediction, r.confidence, r.timestamp, r.sensor_id, r.severity, r.id, r.p_leak, r.leak_threshold,
      r.severity_low_threshold, r.severity_high_threshold, r.image_sha256, r.image_width, r.image_height, r.model_sha256, r.uid].join(','));
    const preferred = await t.app.inject({ method: 'GET', url: '/prediction_history', headers: { accept: 'text/html, text/csv;q=0.9, application/json;q=0.5' } });
    assert.match(String(preferred.headers['content-type']), /^text\/csv/);
    const fallback = await t.app.inject({ method: 'GET', url: '/prediction_history?limit=1', headers: { accept: 'image/png' } });
    assert.match(String(fallback.headers['content-type']), /^application\/json/);
    const override = await t.app.inject({ method: 'GET', url: '/prediction_history?format=json&limit=1', headers: { accept: 'text/csv' } });
    assert.deepEqual(override.json(), posted.slice(0, 1));
  });

  it('quotes CSV fields that hold commas, quotes or line breaks', async (ctx) => {
    const other = await build(ctx);
    const id = 'line "7", valve 3';
    const res = await other.app.inject({ method: 'POST', url: '/predict', ...predictForm(patternPng(32, 32, 5), id) });
    assert.equal(res.statusCode, 200);
    const csv = await other.app.inject({ method: 'GET', url: '/prediction_history?format=csv' });
    assert.match(csv.body, /,"line ""7"", valve 3",/);
  });

  it('writes CSV cells that a spreadsheet would run as formulas as text', async (ctx) => {
    const other = await build(ctx);
    const ids = ['=HYPERLINK("http://evil.example";"open")', '+1+1', '-A1', '@SUM(A1)', "'=x", 'ok-1'];
    for (const [i, id] of ids.entries()) {
      const res = await other.app.inject({ method: 'POST', url: '/predict', ...predictForm(patternPng(32, 32, 20 + i), id) });
      assert.equal(res.statusCode, 200);
    }
    const csv = await other.app.inject({ method: 'GET', url: '/prediction_history?format=csv' });
    const cells = csv.body.trimEnd().split('\r\n').slice(1).map((line) => line.split(',')[3]);
    assert.deepEqual(cells, [`"'=HYPERLINK(""http://evil.example"";""open"")"`, "'+1+1", "'-A1", "'@SUM(A1)", "''=x", 'ok-1']);
    // Only the CSV form: JSON and NDJSON carry the ids as recorded.
    const json = await other.app.inject({ method: 'GET', url: '/prediction_history' });
    assert.deepEqual(json.json<{ sensor_id: string }[]>().map((r) => r.sensor_id), ids);
  });

  it('400 with {code, message} for bad parameters', async () => {
    const bad = [
      '?limit=abc', '?limit=0', '?limit=-1', '?limit=1.5', '?since=garbage', '?until=2026-13-01',
      '?since=2026-02-30', '?severity=critical', '?since=2026-02-01&until=2026-01-01', '?limit=1e400',
      '?order=sideways', '?format=xml', '?cursor=zzz', '?cursor=%21%21', `?cursor=${Buffer.from('a-1').toString('base64url')}`,
      `?order=asc&cursor=${Buffer.from('d5').toString('base64url')}`,
    ];
    for (const q of bad) {
      const res = await get(q);
      assert.equal(res.statusCode, 400, `${q}: ${res.body}`);
      const body = res.json<{ code: string; message: string }>();
      assert.equal(body.code, 'invalid_parameter', q);
      assert.match(body.message, /^Invalid query parameter '(limit|since|until|severity|order|format|cursor)'/, q);
    }
  });

  it('treats injection attempts as plain values', async () => {
    const res = await get(`?sensor_id=${encodeURIComponent("' OR 1=1 --")}`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), []);
  });
});

describe('GET /sensors', () => {
  let t: TestApp;
  before(async () => { t = await build(); });
  after(() => t.close());

  it('lists [] before any prediction, then every sensor with its totals and latest prediction', async () => {
    assert.deepEqual((await t.app.inject({ method: 'GET', url: '/sensors' })).json(), []);
    const posted: PredictionRecord[] = [];
    for (let i = 0; i < 9; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/predict', ...predictForm(patternPng(40, 40, i + 3), i % 3 === 0 ? 'pump-a' : 'pump-b') });
      posted.push(res.json());
    }
    const res = await t.app.inject({ method: 'GET', url: '/sensors' });
    assert.equal(res.statusCode, 200);
    const sensors = res.json<{ sensor_id: string; count: number; first_seen: string; last_seen: string; by_prediction: Record<string, number>; by_severity: Record<string, number>; last: PredictionRecord }[]>();
    assert.deepEqual(sensors.map((s) => s.sensor_id), ['pump-a', 'pump-b']);
    for (const s of sensors) {
      const mine = posted.filter((p) => p.sensor_id === s.sensor_id);
      assert.equal(s.count, mine.length);
      assert.equal(s.first_seen, mine[0]!.timestamp);
      assert.equal(s.last_seen, mine.at(-1)!.timestamp);
      assert.deepEqual(s.last, mine.at(-1));
      const tally = (key: 'prediction' | 'severity') => mine.reduce<Record<string, number>>((acc, p) => ({ ...acc, [p[key]]: (acc[p[key]] ?? 0) + 1 }), {});
      assert.deepEqual(s.by_prediction, tally('prediction'));
      assert.deepEqual(s.by_severity, tally('severity'));
    }
  });
});
