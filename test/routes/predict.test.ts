import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { encodePng, pngChunk } from '../../src/synth/png-encode.js';
import { type TestApp, build } from '../helpers/build-app.js';
import { patternPng, solidPng } from '../helpers/images.js';
import { BOUNDARY, multipartBody, multipartHeaders, predictForm } from '../helpers/multipart.js';

interface ErrorJson {
  code: string;
  message: string;
  request_id: string;
}

describe('POST /predict', () => {
  let t: TestApp;
  before(async () => {
    t = await build();
  });
  after(() => t.close());

  const post = (payload: Buffer | string, headers: Record<string, string> = multipartHeaders()) =>
    t.app.inject({ method: 'POST', url: '/predict', payload, headers });

  /** Sends a request that must be rejected: checks status, error shape, and that nothing was recorded. */
  async function rejects(payload: Buffer | string, status: number, code: string, headers?: Record<string, string>) {
    const before = await t.history.count();
    const res = await post(payload, headers);
    assert.equal(res.statusCode, status, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const body = res.json<ErrorJson>();
    assert.equal(body.code, code);
    assert.equal(typeof body.message, 'string');
    assert.ok(body.message.length > 10);
    assert.doesNotMatch(res.body, /node_modules|\/work\/|at .+\(.+:\d+:\d+\)|Error:/, 'no stack, path or library text');
    assert.equal(await t.history.count(), before, 'a rejected request writes nothing');
    return body;
  }

  it('classifies a PNG and answers the five specified fields with their types', async () => {
    const png = solidPng(224, 224, [0, 0, 255]);
    const res = await post(predictForm(png, 'sensorX_123').payload);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<Record<string, unknown>>();
    assert.ok(body.prediction === 'Leak' || body.prediction === 'Normal');
    assert.equal(typeof body.confidence, 'number');
    assert.ok((body.confidence as number) >= 0.5 && (body.confidence as number) <= 1);
    // With a +00:00 offset, as Python's datetime.fromisoformat reads it on every version (Z only from 3.11).
    assert.match(String(body.timestamp), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/);
    assert.ok(Math.abs(Date.parse(String(body.timestamp)) - Date.now()) < 60_000);
    assert.equal(body.sensor_id, 'sensorX_123');
    assert.ok(['none', 'low', 'high'].includes(String(body.severity)));
    assert.equal(body.image_sha256, createHash('sha256').update(png).digest('hex'));
    assert.equal(body.model_sha256, t.classifier.model.sha256);
    assert.deepEqual([body.leak_threshold, body.severity_low_threshold, body.severity_high_threshold], [0.5, 0.5, 0.9]);
    const expected = body.prediction === 'Leak' ? (body.p_leak as number) : 1 - (body.p_leak as number);
    assert.ok(Math.abs(expected - (body.confidence as number)) < 1e-12);
  });

  it('records the prediction before answering: the 200 body is the stored record', async () => {
    const res = await post(predictForm(patternPng(64, 48, 7), 'recorder').payload);
    assert.equal(res.statusCode, 200);
    const rows = [];
    for await (const r of t.history.stream({ sensorIds: ['recorder'] })) rows.push(r);
    assert.deepEqual(rows, [res.json()]);
  });

  it('accepts every PNG colour type and bit depth, and the file part\'s name and type do not matter', async () => {
    const variants = [
      patternPng(50, 40, 1, { type: 'gray', depth: 1 }),
      patternPng(50, 40, 2, { type: 'gray', depth: 2 }),
      patternPng(50, 40, 3, { type: 'gray', depth: 4 }),
      patternPng(50, 40, 4, { type: 'gray', depth: 8 }),
      patternPng(50, 40, 5, { type: 'gray', depth: 16 }),
      patternPng(50, 40, 6, { type: 'gray-alpha', depth: 8 }),
      patternPng(50, 40, 7, { type: 'gray-alpha', depth: 16 }),
      patternPng(50, 40, 8, { type: 'rgb', depth: 16 }),
      patternPng(50, 40, 9, { type: 'rgba', depth: 8 }),
      patternPng(50, 40, 10, { type: 'rgba', depth: 16 }),
      patternPng(50, 40, 11, { type: 'palette', palette: new Uint8Array([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255]), alpha: new Uint8Array([0, 128]) }),
      patternPng(1, 1, 12),
      patternPng(640, 480, 13),
    ];
    for (const [i, png] of variants.entries()) {
      const payload = multipartBody([
        { name: 'file', value: png, filename: `../../etc/x${i}.bin`, contentType: 'application/octet-stream' },
        { name: 'sensor_id', value: `variant-${i}` },
      ]);
      const res = await post(payload);
      assert.equal(res.statusCode, 200, `variant ${i}: ${res.body}`);
    }
  });

  it('gives the same answer for an image whatever its encoding (interlaced, 16-bit twin, alpha)', async () => {
    const base = await post(predictForm(patternPng(80, 60, 21)).payload);
    const samples = await sharp(patternPng(80, 60, 21)).raw().toBuffer();
    const interlaced = await sharp(samples, { raw: { width: 80, height: 60, channels: 3 } }).png({ progressive: true }).toBuffer();
    const again = await post(predictForm(interlaced).payload);
    assert.equal(again.json<{ p_leak: number }>().p_leak, base.json<{ p_leak: number }>().p_leak);
    // 16-bit twin (v × 257 keeps the high byte v) and RGBA twin (alpha is dropped, not composited).
    const sixteen = encodePng({ width: 80, height: 60, colour: { type: 'rgb', depth: 16 }, samples: Array.from(samples, (v) => v * 257) });
    const rgba = encodePng({
      width: 80, height: 60, colour: { type: 'rgba', depth: 8 },
      samples: Array.from({ length: 80 * 60 * 4 }, (_, i) => (i % 4 === 3 ? (i * 7) % 256 : samples[i - Math.floor(i / 4) - 0]!)),
    });
    for (const twin of [sixteen, rgba]) {
      const res = await post(predictForm(twin).payload);
      assert.equal(res.json<{ p_leak: number }>().p_leak, base.json<{ p_leak: number }>().p_leak);
    }
  });

  it('ignores extra form fields and never stores them', async () => {
    const payload = multipartBody([
      { name: 'prediction', value: 'Leak' },
      { name: 'file', value: solidPng(32, 32, [9, 9, 9]), filename: 'a.png' },
      { name: 'sensor_id', value: 'extras' },
      { name: 'timestamp', value: '1999-01-01T00:00:00Z' },
    ]);
    const res = await post(payload);
    assert.equal(res.statusCode, 200);
    assert.notEqual(res.json<{ timestamp: string }>().timestamp, '1999-01-01T00:00:00Z');
  });

  it('422 when the file part is missing', async () => {
    const body = await rejects(multipartBody([{ name: 'sensor_id', value: 's' }]), 422, 'missing_field');
    assert.match(body.message, /'file'/);
  });

  it('422 when sensor_id is missing', async () => {
    const body = await rejects(multipartBody([{ name: 'file', value: solidPng(8, 8, [1, 2, 3]), filename: 'a.png' }]), 422, 'missing_field');
    assert.match(body.message, /'sensor_id'/);
  });

  it('422 when sensor_id is empty, too long, or has control characters', async () => {
    const png = solidPng(8, 8, [1, 2, 3]);
    for (const bad of ['', 'x'.repeat(129), 'x'.repeat(10_000), 'a\nb', 'a\u0000b', 'tab\there', '\u0085x', ' padded ']) {
      await rejects(predictForm(png, bad).payload, 422, 'invalid_sensor_id');
    }
    const ok = await post(predictForm(png, 'é'.repeat(128)).payload);
    assert.equal(ok.statusCode, 200, '128 characters, even multi-byte, are fine');
  });

  it('422 when a field is sent twice', async () => {
    const png = solidPng(8, 8, [1, 2, 3]);
    await rejects(multipartBody([
      { name: 'file', value: png, filename: 'a.png' },
      { name: 'sensor_id', value: 'a' },
      { name: 'sensor_id', value: 'b' },
    ]), 422, 'duplicate_field');
    await rejects(multipartBody([
      { name: 'file', value: png, filename: 'a.png' },
      { name: 'file', value: png, filename: 'b.png' },
      { name: 'sensor_id', value: 'a' },
    ]), 422, 'duplicate_field');
  });

  it('415 when the upload is not a PNG, whatever its Content-Type says', async () => {
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).jpeg().toBuffer();
    const gif = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).gif().toBuffer();
    const webp = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).webp().toBuffer();
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>');
    for (const bytes of [jpeg, gif, webp, svg, Buffer.from('just text'), Buffer.from('%PDF-1.4\n')]) {
      await rejects(predictForm(bytes).payload, 415, 'unsupported_image_type');
    }
  });

  it('400 for an empty file, a bare signature, a truncated or corrupt PNG', async () => {
    const png = patternPng(64, 64, 3);
    await rejects(predictForm(Buffer.alloc(0)).payload, 400, 'empty_file');
    await rejects(predictForm(png.subarray(0, 8)).payload, 400, 'invalid_png');
    await rejects(predictForm(png.subarray(0, png.length - 40)).payload, 400, 'invalid_png');
    const badCrc = Buffer.from(png);
    badCrc[29] = (badCrc[29]! + 1) & 0xff; // IHDR's CRC
    await rejects(predictForm(badCrc).payload, 400, 'invalid_png');
    const zeroWidth = Buffer.from(png);
    zeroWidth.writeUInt32BE(0, 16);
    await rejects(predictForm(zeroWidth).payload, 400, 'invalid_png');
  });

  it('413 for an image over MAX_IMAGE_PIXELS, checked from the header before decoding', async () => {
    // A 60000×60000 IHDR with a tiny, bogus IDAT: rejected without ever allocating its pixels.
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(60000, 0);
    ihdr.writeUInt32BE(60000, 4);
    ihdr[8] = 8;
    ihdr[9] = 2;
    const bomb = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      pngChunk('IHDR', ihdr), pngChunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])), pngChunk('IEND', Buffer.alloc(0)),
    ]);
    const body = await rejects(predictForm(bomb).payload, 413, 'image_too_large');
    assert.match(body.message, /60000×60000/);
  });

  it('413 for a body over MAX_UPLOAD_BYTES', async (ctx) => {
    const small = await build(ctx, { MAX_UPLOAD_BYTES: '4096' });
    const big = patternPng(200, 200, 5);
    assert.ok(big.length > 4096);
    const before = await small.history.count();
    const res = await small.app.inject({ method: 'POST', url: '/predict', ...predictForm(big) });
    assert.equal(res.statusCode, 413);
    assert.equal(res.json<ErrorJson>().code, 'upload_too_large');
    // Without a Content-Length (chunked), busboy stops at the limit.
    const chunked = await small.app.inject({
      method: 'POST', url: '/predict', headers: { ...multipartHeaders(), 'transfer-encoding': 'chunked' },
      payload: predictForm(big).payload,
    });
    assert.equal(chunked.statusCode, 413);
    assert.equal(await small.history.count(), before);
  });

  it('415 for a body that is not multipart, and 400 for broken multipart framing', async () => {
    await rejects(JSON.stringify({ file: 'x', sensor_id: 'y' }), 415, 'unsupported_media_type', { 'content-type': 'application/json' });
    await rejects('file=x&sensor_id=y', 415, 'unsupported_media_type', { 'content-type': 'application/x-www-form-urlencoded' });
    await rejects('<a/>', 415, 'unsupported_media_type', { 'content-type': 'application/xml' });
    await rejects(predictForm(solidPng(8, 8, [1, 1, 1])).payload, 400, 'malformed_multipart', { 'content-type': 'multipart/form-data' });
    const full = predictForm(solidPng(64, 64, [1, 1, 1])).payload;
    await rejects(full.subarray(0, 200), 400, 'malformed_multipart');
    await rejects(full, 400, 'malformed_multipart', multipartHeaders(`${BOUNDARY}-wrong`));
  });

  it('503, with Retry-After, when no inference worker is running, and records nothing', async (ctx) => {
    const own = await build(ctx);
    await own.classifier.close();
    const res = await own.app.inject({ method: 'POST', url: '/predict', ...predictForm(solidPng(8, 8, [1, 2, 3])) });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json<ErrorJson>().code, 'not_ready');
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(await own.history.count(), 0);
  });

  it('503, with Retry-After, when the history store fails, and says nothing was saved', async (ctx) => {
    const own = await build(ctx);
    await own.history.close();
    const res = await own.app.inject({ method: 'POST', url: '/predict', ...predictForm(solidPng(8, 8, [1, 2, 3])) });
    assert.equal(res.statusCode, 503);
    const body = res.json<ErrorJson>();
    assert.equal(body.code, 'store_unavailable');
    assert.match(body.message, /nothing was saved/);
    assert.ok(res.headers['retry-after']);
  });

  it('keeps serving after every rejection', async () => {
    const res = await post(predictForm(solidPng(16, 16, [200, 10, 10])).payload);
    assert.equal(res.statusCode, 200);
  });
});
