import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type TestApp, build } from '../helpers/build-app.js';
import { launchChromium } from '../helpers/chromium.js';
import { patternPng } from '../helpers/images.js';
import { tempDir } from '../helpers/temp-dir.js';

/*
 * Swagger UI at /docs in a real headless Chromium, against the real app on a real socket:
 * it must work offline (every asset served by us) and a person must be able to classify a PNG with it.
 * Chromium comes from Debian (`apt-get install chromium`, done by .ci/run); without it these tests fail.
 */
describe('Swagger UI at /docs, in headless Chromium', { timeout: 120_000 }, () => {
  let t: TestApp;
  let origin: string;
  /** Settles once; a missing Chromium rejects it, and each test then fails with the launcher's message. */
  let browser: Promise<Browser>;

  before(async () => {
    t = await build();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    origin = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = launchChromium();
    browser.catch(() => undefined); // reported by the tests that use it
  });

  after(async () => {
    await browser.then((b) => b.close(), () => undefined);
    await t.close();
  });

  /** A fresh browser context on /docs, recording every request the browser makes and every uncaught page error. */
  async function openDocs(ctx: TestContext): Promise<{ page: Page; requests: string[]; pageErrors: string[] }> {
    const context = await (await browser).newContext({ viewport: { width: 1280, height: 900 } });
    ctx.after(() => context.close());
    const requests: string[] = [];
    const pageErrors: string[] = [];
    context.on('request', (request) => requests.push(request.url()));
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const res = await page.goto(`${origin}/docs`, { waitUntil: 'networkidle' });
    assert.equal(res?.status(), 200);
    await page.locator('.opblock').first().waitFor();
    return { page, requests, pageErrors };
  }

  /** The requests that went anywhere but the app (data: URLs are not requests to a host). */
  const offHost = (requests: string[]) => requests.filter((url) => new URL(url).origin !== origin && !url.startsWith('data:'));

  it('loads with every request served by the app itself, and renders the operations', async (ctx) => {
    const { page, requests, pageErrors } = await openDocs(ctx);
    assert.ok(requests.some((url) => url.endsWith('.js')), 'the UI\'s scripts were requested');
    assert.deepEqual(offHost(requests), [], 'no request to any other host: the UI works offline');
    assert.deepEqual(pageErrors, []);
    assert.equal((await page.locator('.info .title').first().innerText()).split('\n')[0]?.trim(), 'Leakwatch');

    const operations = new Set<string>();
    for (const summary of await page.locator('.opblock-summary').all()) {
      const method = (await summary.locator('.opblock-summary-method').innerText()).trim();
      const path = (await summary.locator('.opblock-summary-path').innerText()).trim();
      operations.add(`${method} ${path}`);
    }
    for (const op of ['POST /predict', 'GET /prediction_history', 'GET /']) {
      assert.ok(operations.has(op), `${op} is rendered (got ${[...operations].join(', ')})`);
    }
  });

  it('classifies a PNG through the UI: Try it out, choose a file, fill sensor_id, Execute → 200 and a prediction', async (ctx) => {
    const file = join(tempDir(ctx), 'frame.png');
    const png = patternPng(96, 64, 4242);
    writeFileSync(file, png);
    const { page, requests, pageErrors } = await openDocs(ctx);
    const historyBefore = await t.history.count();

    const predict = page.locator('.opblock-post').filter({ has: page.locator('.opblock-summary-path', { hasText: /^\/predict$/ }) });
    await predict.locator('.opblock-summary').click();
    await predict.getByRole('button', { name: 'Try it out' }).click();
    await predict.locator('tr[data-property-name="file"] input[type="file"]').setInputFiles(file);
    await predict.locator('tr[data-property-name="sensor_id"] input').fill('docs-ui-sensor');
    await predict.getByRole('button', { name: 'Execute' }).click();

    const live = predict.locator('.live-responses-table');
    const status = live.locator('tbody .response .response-col_status');
    await status.waitFor({ timeout: 60_000 });
    assert.equal((await status.innerText()).trim(), '200');
    const bodyText = await live.locator('.response-col_description .highlight-code pre').first().innerText();
    assert.match(bodyText, /"prediction"/);
    const body = JSON.parse(bodyText) as Record<string, unknown>;
    assert.ok(body.prediction === 'Leak' || body.prediction === 'Normal', bodyText);
    assert.equal(body.sensor_id, 'docs-ui-sensor', 'the typed sensor_id was sent');
    assert.equal(body.image_sha256, createHash('sha256').update(png).digest('hex'), 'the chosen file was sent, byte for byte');

    assert.equal(await t.history.count(), historyBefore + 1, 'the prediction was recorded');
    assert.deepEqual(offHost(requests), [], 'Execute, too, went only to the app');
    assert.deepEqual(pageErrors, []);

    const screenshot = join(tmpdir(), 'docs.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    ctx.diagnostic(`screenshot: ${screenshot}`);
  });
});
