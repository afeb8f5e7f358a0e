import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, build } from '../helpers/build-app.js';

describe('GET / and health', () => {
  let t: TestApp;
  before(async () => {
    t = await build();
  });
  after(() => t.close());

  it('GET / answers the specification\'s exact banner', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(res.body, JSON.stringify({ message: 'ONNX Binary Classifier API is running. Go to /docs for interactive API documentation.' }));
  });

  it('GET /healthz is live and GET /readyz is ready with the model and store up', async () => {
    const live = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(live.statusCode, 200);
    assert.deepEqual(live.json(), { status: 'ok' });
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ok', checks: { model: 'ok', store: 'ok' } });
  });

  it('GET /readyz answers 503 when the store is unreachable', async (ctx) => {
    const own = await build(ctx);
    await own.history.close();
    const res = await own.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json<{ checks: { store: string } }>().checks.store, 'unreachable');
  });

  it('GET /readyz answers 503 once the classifier is closed', async (ctx) => {
    const own = await build(ctx);
    await own.classifier.close();
    const res = await own.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json<{ checks: { model: string } }>().checks.model, 'no inference worker');
  });

  it('every response carries a request id; an unknown route gets a 404 in the error shape', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/nope' });
    assert.equal(res.statusCode, 404);
    const body = res.json<Record<string, string>>();
    assert.equal(body.code, 'not_found');
    assert.equal(body.request_id, res.headers['x-request-id']);
  });

  it('405 with Allow for a route that takes other methods; a trailing slash is the same route', async () => {
    for (const [method, url, allow] of [['GET', '/predict', 'POST'], ['PUT', '/predict?x=1', 'POST'], ['POST', '/prediction_history', 'GET, HEAD'], ['DELETE', '/', 'GET, HEAD']] as const) {
      const res = await t.app.inject({ method, url });
      assert.equal(res.statusCode, 405, `${method} ${url}`);
      assert.equal(res.headers.allow, allow);
      const body = res.json<Record<string, string>>();
      assert.equal(body.code, 'method_not_allowed');
      assert.equal(body.request_id, res.headers['x-request-id']);
    }
    assert.equal((await t.app.inject({ method: 'GET', url: '/prediction_history/' })).statusCode, 200);
    assert.equal((await t.app.inject({ method: 'GET', url: '/healthz/' })).statusCode, 200);
  });

  it('a URL that cannot be decoded gets a 400 in the error shape', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/%zz' });
    assert.equal(res.statusCode, 400);
    const body = res.json<Record<string, string>>();
    assert.equal(body.code, 'bad_request');
    assert.match(body.message ?? "", /URL/);
    assert.equal(body.request_id, res.headers['x-request-id']);
  });

  it('keeps a safe incoming x-request-id and replaces an unsafe one', async () => {
    const kept = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    assert.equal(kept.headers['x-request-id'], 'abc-123');
    const replaced = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id\u0001' } });
    assert.notEqual(replaced.headers['x-request-id'], 'bad id\u0001');
    assert.match(String(replaced.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });
});
