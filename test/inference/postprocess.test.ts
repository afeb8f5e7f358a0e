import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sigmoid, softmax2, toProbabilities } from '../../src/inference/postprocess.js';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} vs ${b}`);

describe('postprocess', () => {
  it('softmax2 matches the hand-computed value and stays finite for huge logits', () => {
    const [a, b] = softmax2(1, 3);
    close(b, Math.exp(3) / (Math.exp(1) + Math.exp(3)));
    close(a + b, 1);
    assert.deepEqual(softmax2(1000, -1000), [1, 0]);
    assert.deepEqual(softmax2(0, 0), [0.5, 0.5]);
  });

  it('sigmoid matches 1/(1+e^-x) and is stable at both ends', () => {
    close(sigmoid(0.7), 1 / (1 + Math.exp(-0.7)));
    close(sigmoid(-0.7), 1 / (1 + Math.exp(0.7)));
    assert.equal(sigmoid(-1000), 0);
    assert.equal(sigmoid(1000), 1);
  });

  it('handles every output convention, per image of a batch', () => {
    const logits = new Float32Array([0, 2, 1, -1]);
    const fromLogits = toProbabilities(logits, 2, 'logits2');
    close(fromLogits[0]![1], softmax2(0, 2)[1]);
    close(fromLogits[1]![1], softmax2(1, -1)[1]);
    assert.deepEqual(toProbabilities([0.25, 0.75], 1, 'probs2'), [[0.25, 0.75]]);
    const logit1 = toProbabilities([2, -3], 2, 'logit1');
    close(logit1[0]![1], sigmoid(2));
    close(logit1[1]![0], 1 - sigmoid(-3));
    assert.deepEqual(toProbabilities([0.75], 1, 'prob1'), [[0.25, 0.75]]);
  });

  it('rejects outputs of the wrong size or outside [0, 1]', () => {
    assert.throws(() => toProbabilities([1, 2, 3], 2, 'logits2'), RangeError);
    assert.throws(() => toProbabilities([1.5], 1, 'prob1'), RangeError);
    assert.throws(() => toProbabilities([Number.NaN, 0], 1, 'logits2'), RangeError);
  });
});
