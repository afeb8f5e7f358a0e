import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, build } from '../helpers/build-app.js';

interface OpenApi {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }>; requestBody?: { content: Record<string, unknown> } }>>;
  components: { schemas: Record<string, unknown> };
}

describe('API documentation', () => {
  let t: TestApp;
  before(async () => {
    t = await build();
  });
  after(() => t.close());

  it('GET /openapi.json documents every route, with its error responses', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json<OpenApi>();
    assert.match(doc.openapi, /^3\./);
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    assert.deepEqual(routes.sort(), ['GET /', 'GET /healthz', 'GET /metrics', 'GET /prediction_history', 'GET /readyz', 'GET /sensors', 'POST /predict']);
    const predict = doc.paths['/predict']!.post!;
    assert.deepEqual(Object.keys(predict.responses).sort(), ['200', '400', '401', '403', '413', '415', '422', '429', '500', '503']);
    assert.ok(predict.requestBody?.content['multipart/form-data'], 'the form is documented as multipart');
    const history = doc.paths['/prediction_history']!.get!.responses;
    assert.deepEqual(Object.keys(history).sort(), ['200', '400', '401', '403', '429', '500', '503']);
    // Records come as JSON, NDJSON or CSV; errors always as JSON.
    assert.deepEqual(Object.keys(history['200']!.content ?? {}).sort(), ['application/json', 'application/x-ndjson', 'text/csv']);
    for (const status of ['400', '503']) assert.deepEqual(Object.keys(history[status]!.content ?? {}), ['application/json'], status);
    assert.ok(doc.components.schemas.ErrorBody && doc.components.schemas.PredictionRecord);
  });

  it('GET /docs serves Swagger UI and its assets from this server', async () => {
    const html = await t.app.inject({ method: 'GET', url: '/docs' });
    assert.equal(html.statusCode, 200);
    assert.match(String(html.headers['content-type']), /^text\/html/);
    assert.match(html.body, /swagger-ui/);
    assert.doesNotMatch(html.body, /https?:\/\/(?!localhost)[a-z]/i, 'no asset from another host');
    const bundle = await t.app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    assert.equal(bundle.statusCode, 200);
    assert.ok(bundle.body.length > 100_000);
  });
});
