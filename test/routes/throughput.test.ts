import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build } from '../helpers/build-app.js';
import { patternPng, solidPng } from '../helpers/images.js';
import { predictForm } from '../helpers/multipart.js';

interface Prediction {
  p_leak: number;
  sensor_id: string;
  image_sha256: string;
}

describe('batching and backpressure', () => {
  it('gives N concurrent, different images exactly the result each gets alone', async (t) => {
    const { app } = await build(t, { MAX_BATCH: '8' });
    const images = Array.from({ length: 16 }, (_, i) => patternPng(96 + i * 8, 80, 500 + i));
    const alone: number[] = [];
    for (const png of images) {
      const res = await app.inject({ method: 'POST', url: '/predict', ...predictForm(png, 'alone') });
      alone.push(res.json<Prediction>().p_leak);
    }
    const together = await Promise.all(images.map((png, i) => app.inject({ method: 'POST', url: '/predict', ...predictForm(png, `together-${i}`) })));
    together.forEach((res, i) => {
      assert.equal(res.statusCode, 200);
      const body = res.json<Prediction>();
      assert.equal(body.sensor_id, `together-${i}`, 'each answer goes to its own request');
      assert.ok(Math.abs(body.p_leak - alone[i]!) < 1e-6, `image ${i}: ${body.p_leak} vs ${alone[i]!}`);
    });
  });

  it('answers 503 with Retry-After beyond MAX_QUEUE, records only what it answered 200', async (t) => {
    const { app, history } = await build(t, { MAX_QUEUE: '3', MAX_BATCH: '1' });
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => app.inject({ method: 'POST', url: '/predict', ...predictForm(patternPng(224, 224, i + 1), 'flood') })),
    );
    const ok = responses.filter((r) => r.statusCode === 200);
    const refused = responses.filter((r) => r.statusCode === 503);
    assert.equal(ok.length + refused.length, 40, 'nothing but 200 and 503');
    assert.ok(ok.length >= 3, `at least the queue's worth got through (${ok.length})`);
    assert.ok(refused.length > 0, 'some were refused');
    for (const r of refused) {
      assert.equal(r.json<{ code: string }>().code, 'overloaded');
      assert.match(String(r.headers['retry-after']), /^[1-9]\d*$/);
    }
    assert.equal(await history.count(), ok.length, 'a refused request writes nothing');
    // Every admitted request has left: the bound is free again.
    const after = await app.inject({ method: 'POST', url: '/predict', ...predictForm(solidPng(8, 8, [5, 5, 5]), 'after') });
    assert.equal(after.statusCode, 200);
  });

  it('releases its place in the queue whatever the outcome', async (t) => {
    const { app } = await build(t, { MAX_QUEUE: '1' });
    for (let i = 0; i < 5; i++) {
      const bad = await app.inject({ method: 'POST', url: '/predict', ...predictForm(Buffer.from('not a png')) });
      assert.equal(bad.statusCode, 415);
    }
    const good = await app.inject({ method: 'POST', url: '/predict', ...predictForm(solidPng(8, 8, [5, 5, 5])) });
    assert.equal(good.statusCode, 200);
  });

  it('serves Prometheus metrics for requests, batches, queue, predictions and the model', async (t) => {
    const { app, classifier } = await build(t);
    const res = await app.inject({ method: 'POST', url: '/predict', ...predictForm(solidPng(32, 32, [0, 0, 255])) });
    const { prediction, severity } = res.json<{ prediction: string; severity: string }>();
    await app.inject({ method: 'POST', url: '/predict', ...predictForm(Buffer.from('nope')) });
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(metrics.statusCode, 200);
    assert.match(String(metrics.headers['content-type']), /^text\/plain/);
    const text = metrics.body;
    assert.ok(text.includes(`leakwatch_predictions_total{prediction="${prediction}",severity="${severity}"} 1`), 'predictions by label and severity');
    assert.match(text, /leakwatch_http_request_duration_seconds_count\{route="\/predict",method="POST",status="200"\} 1/);
    assert.match(text, /leakwatch_http_request_duration_seconds_count\{route="\/predict",method="POST",status="415"\} 1/);
    assert.match(text, /leakwatch_inference_batch_size_count [1-9]/);
    assert.match(text, /leakwatch_inference_batch_duration_seconds_sum \d/);
    assert.match(text, /leakwatch_inference_queue_depth 0/);
    assert.ok(text.includes(`sha256="${classifier.model.sha256}"`), 'model info');
    assert.match(text, /leakwatch_rejected_requests_total\{code="unsupported_image_type"\} 1/);
    assert.match(text, /leakwatch_process_resident_memory_bytes \d+/);
  });
});
