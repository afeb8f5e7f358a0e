import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sensorIdProblem } from '../../src/policy/sensor-id.js';

describe('sensorIdProblem', () => {
  it('accepts ordinary ids, unicode, and exactly 128 characters', () => {
    for (const ok of ['sensorX_123', 'plant-3/line-2/valve 7', 'Ventil-Ü', 'x'.repeat(128), '🔥'.repeat(128), "a'b\"c"]) {
      assert.equal(sensorIdProblem(ok), undefined, ok);
    }
  });
  it('names the problem of an empty, long or control-character id', () => {
    assert.match(sensorIdProblem('') ?? '', /empty/);
    assert.match(sensorIdProblem('x'.repeat(129)) ?? '', /longer than 128/);
    for (const bad of ['a\nb', 'a\rb', 'a\u0000', '\u001b[31m', 'x\u007f', 'x\u0085', 'a\u2028b']) {
      assert.match(sensorIdProblem(bad) ?? '', /control/, JSON.stringify(bad));
    }
    assert.match(sensorIdProblem(' lead') ?? '', /whitespace/);
  });
});
