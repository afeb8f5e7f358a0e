import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { generateSample } from '../../src/synth/sample.js';
import { type TestApp, build } from '../helpers/build-app.js';
import { predictForm } from '../helpers/multipart.js';

// A seed that neither training (1), validation (2), evaluation (3) nor the parity fixtures (4) use.
const SEED = 90210;
const COUNT = 200;
const CLIENTS = 16;
/*
 * A regression guard for the whole path (decode, preprocessing, batching, labels, severity), not
 * the model's benchmark: the committed model scores 91.95% on 2,000 held-out frames and 93.5%
 * (187/200) on these. A broken step anywhere drops it towards 50%. Issue 3 asks for 95% here,
 * which the one-hour default model does not reach (models/README.md, "Limitations").
 */
const MIN_ACCURACY = 0.9;

interface Outcome {
  truth: 'Leak' | 'Normal';
  prediction: string;
  severity: string;
}

describe('the default model on freshly generated frames, over HTTP', () => {
  let t: TestApp;
  let url: string;
  before(async () => {
    t = await build();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  after(() => t.close());

  it(`classifies ${COUNT} new synthetic frames (every size and PNG colour type) at the default model's accuracy`, async () => {
    const classify = async (i: number): Promise<Outcome> => {
      const { png, meta } = generateSample(SEED, i);
      const { payload, headers } = predictForm(png, `synth-${meta.width}x${meta.height}-${meta.colourType}`, `frame-${i}.png`);
      const res = await fetch(`${url}/predict`, { method: 'POST', body: payload, headers });
      const body = await res.text();
      assert.equal(res.status, 200, body);
      const { prediction, severity } = JSON.parse(body) as { prediction: string; severity: string };
      return { truth: meta.label === 'leak' ? 'Leak' : 'Normal', prediction, severity };
    };
    // Several clients at once, as a site's cameras send: batching must not change a result.
    const outcomes: Outcome[] = [];
    for (let i = 0; i < COUNT; i += CLIENTS) {
      outcomes.push(...(await Promise.all(Array.from({ length: Math.min(CLIENTS, COUNT - i) }, (_, k) => classify(i + k)))));
    }
    const correct = outcomes.filter((o) => o.truth === o.prediction).length;
    const missed = outcomes.filter((o) => o.truth === 'Leak' && o.prediction !== 'Leak').length;
    const falseAlarms = outcomes.filter((o) => o.truth === 'Normal' && o.prediction !== 'Normal').length;
    const severities = new Set(outcomes.filter((o) => o.prediction === 'Leak').map((o) => o.severity));
    console.log(`accuracy ${((100 * correct) / COUNT).toFixed(1)}% (${correct}/${COUNT}; ${missed} leaks missed, ${falseAlarms} false alarms); Leak severities seen: ${[...severities].sort().join(', ')}`);
    assert.ok(correct / COUNT >= MIN_ACCURACY, `accuracy ${correct}/${COUNT} is below ${MIN_ACCURACY * 100}%`);
    assert.deepEqual([...severities].sort(), ['high', 'low'], 'both severity levels occur among the Leak predictions');
    assert.equal(await t.history.count(), COUNT, 'every prediction is recorded');
  });
});
