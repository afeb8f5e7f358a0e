import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseKey } from '../../src/auth/key-store.js';
import { openStores } from '../../src/server.js';
import { type TestApp, build } from '../helpers/build-app.js';
import { patternPng } from '../helpers/images.js';
import { predictForm } from '../helpers/multipart.js';

const predict = (t: TestApp, headers: Record<string, string> = {}, url = '/predict') => {
  const form = predictForm(patternPng(40, 40, 7), 'keyed');
  return t.app.inject({ method: 'POST', url, payload: form.payload, headers: { ...form.headers, ...headers } });
};
const get = (t: TestApp, url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('API keys', () => {
  it('are off until the first key exists; from then on, protected routes need one', async (ctx) => {
    const t = await build(ctx);
    assert.equal((await predict(t)).statusCode, 200);
    assert.equal((await get(t, '/prediction_history')).statusCode, 200);
    await t.keys.create('gateway', 'predict');
    const res = await predict(t);
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="leakwatch"');
    assert.equal(res.json<{ code: string }>().code, 'unauthorized');
    for (const url of ['/prediction_history', '/sensors', '/metrics']) assert.equal((await get(t, url)).statusCode, 401, url);
    for (const url of ['/', '/healthz', '/readyz', '/docs', '/openapi.json']) assert.equal((await get(t, url)).statusCode, 200, url);
    assert.equal(await t.history.count(), 1, 'the refused upload recorded nothing');
  });

  it('allow what their scope allows: 403 for the wrong scope, admin for all', async (ctx) => {
    const t = await build(ctx);
    const { key: p } = await t.keys.create('camera', 'predict');
    const { key: r } = await t.keys.create('dashboard', 'read');
    const { key: a } = await t.keys.create('ops', 'admin');
    assert.equal((await predict(t, bearer(p))).statusCode, 200);
    assert.equal((await predict(t, { 'x-api-key': p })).statusCode, 200);
    assert.equal((await predict(t, { authorization: `bearer  ${a}` })).statusCode, 200);
    const wrong = await predict(t, bearer(r));
    assert.equal(wrong.statusCode, 403);
    assert.deepEqual(wrong.json<{ code: string }>().code, 'forbidden');
    assert.match(wrong.json<{ message: string }>().message, /scope 'read'.*needs 'predict'/);
    assert.equal((await get(t, '/prediction_history', bearer(p))).statusCode, 403);
    for (const key of [r, a]) {
      assert.equal((await get(t, '/prediction_history', bearer(key))).statusCode, 200);
      assert.equal((await get(t, '/sensors', { 'x-api-key': key })).statusCode, 200);
      assert.equal((await get(t, '/metrics', bearer(key))).statusCode, 200);
    }
    assert.equal(await t.history.count(), 3);
  });

  it('refuse wrong, malformed and URL-borne keys with 401, and record nothing', async (ctx) => {
    const t = await build(ctx);
    const { key } = await t.keys.create('camera', 'predict');
    const tampered = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    const otherPrefix = key.replace(/^lw_[0-9a-f]{10}/, 'lw_0000000000');
    for (const headers of [bearer(tampered), bearer(otherPrefix), bearer('lw_x'), bearer(''), { authorization: `Basic ${Buffer.from(`u:${key}`).toString('base64')}` }, { 'x-api-key': key + ' extra' }]) {
      const res = await predict(t, headers);
      assert.equal(res.statusCode, 401, JSON.stringify(headers));
      assert.doesNotMatch(res.body, new RegExp(key.slice(14)), 'no key material is echoed');
    }
    // A valid key beside another one: refused, not settled by which header wins.
    const both = await predict(t, { ...bearer(key), 'x-api-key': 'lw_garbage' });
    assert.equal(both.statusCode, 401);
    assert.match(both.json<{ message: string }>().message, /two different keys/);
    const inUrl = await predict(t, {}, `/predict?api_key=${key}`);
    assert.equal(inUrl.statusCode, 401);
    assert.match(inUrl.json<{ message: string }>().message, /not accepted in the URL/);
    assert.equal(await t.history.count(), 0);
    assert.equal((await predict(t, { ...bearer(key), 'x-api-key': key })).statusCode, 200, 'the same key in both headers is fine');
  });

  it('revoke at once, also for another instance on the same database', async (ctx) => {
    const t = await build(ctx);
    const { key, info } = await t.keys.create('camera', 'predict');
    assert.equal((await predict(t, bearer(key))).statusCode, 200);
    // Another instance: its own connections to the same store.
    const other = await openStores(t.config);
    ctx.after(() => other.history.close());
    assert.deepEqual(await other.keys.revoke(String(info.id)), { info: { ...info, revoked_at: (await other.keys.list())[0]!.revoked_at }, already: false });
    assert.equal((await predict(t, bearer(key))).statusCode, 401);
    assert.equal((await other.keys.revoke(`lw_${info.prefix}`))?.already, true);
    assert.equal(await other.keys.revoke('999'), null);
    // Revoking every key does not open the API again.
    assert.equal((await predict(t)).statusCode, 401);
  });

  it('store only a hash: the secret is nowhere in the database file', async (ctx) => {
    const t = await build(ctx);
    const { key } = await t.keys.create('camera', 'admin');
    const files = ['predictions.db', 'predictions.db-wal'].map((f) => join(t.dir, f)).filter((f) => existsSync(f));
    const bytes = files.map((f) => readFileSync(f).toString('latin1')).join('');
    assert.ok(bytes.includes(createHash('sha256').update(key).digest('hex')), 'its hash is');
    const secret = parseKey(key)?.secret;
    assert.ok(secret, key);
    assert.ok(!bytes.includes(secret), 'the secret part is not stored');
  });
});

describe('rate limits', () => {
  it('per client address: 429 with Retry-After beyond the limit, probes exempt, nothing recorded', async (ctx) => {
    const t = await build(ctx, { RATE_LIMIT_PER_IP: '3' });
    for (let i = 0; i < 3; i++) assert.equal((await predict(t)).statusCode, 200);
    const res = await predict(t);
    assert.equal(res.statusCode, 429);
    assert.equal(res.json<{ code: string }>().code, 'rate_limited');
    assert.ok(Number(res.headers['retry-after']) >= 1);
    assert.equal((await get(t, '/')).statusCode, 429);
    assert.equal((await get(t, '/healthz')).statusCode, 200);
    assert.equal((await get(t, '/readyz')).statusCode, 200);
    // Another address has its own budget.
    const form = predictForm(patternPng(40, 40, 9), 'elsewhere');
    assert.equal((await t.app.inject({ method: 'POST', url: '/predict', remoteAddress: '10.0.0.9', ...form })).statusCode, 200);
    assert.equal(await t.history.count(), 4);
  });

  it('per API key, independently of the address', async (ctx) => {
    const t = await build(ctx, { RATE_LIMIT_PER_KEY: '2' });
    const { key: k1 } = await t.keys.create('one', 'predict');
    const { key: k2 } = await t.keys.create('two', 'predict');
    assert.equal((await predict(t, bearer(k1))).statusCode, 200);
    assert.equal((await predict(t, bearer(k1))).statusCode, 200);
    const res = await predict(t, bearer(k1));
    assert.equal(res.statusCode, 429);
    assert.match(res.json<{ message: string }>().message, /this API key/);
    assert.equal((await predict(t, bearer(k2))).statusCode, 200);
  });
});

describe('hardening', () => {
  it('sends security headers, and no CORS headers unless configured', async (ctx) => {
    const t = await build(ctx);
    const res = await get(t, '/');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
    assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
    assert.doesNotMatch(String(res.headers['content-security-policy']), /upgrade-insecure-requests/);
    assert.equal(res.headers['x-powered-by'], undefined);
    const cross = await t.app.inject({ method: 'OPTIONS', url: '/prediction_history', headers: { origin: 'http://dash.example', 'access-control-request-method': 'GET' } });
    assert.equal(cross.headers['access-control-allow-origin'], undefined);
  });

  it('answers CORS for the configured origins only', async (ctx) => {
    const t = await build(ctx, { CORS_ORIGINS: 'http://dash.example' });
    const ok = await t.app.inject({ method: 'OPTIONS', url: '/prediction_history', headers: { origin: 'http://dash.example', 'access-control-request-method': 'GET' } });
    assert.equal(ok.headers['access-control-allow-origin'], 'http://dash.example');
    const other = await t.app.inject({ method: 'GET', url: '/', headers: { origin: 'http://evil.example' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });
});
