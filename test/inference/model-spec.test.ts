import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type IoMeta, ModelSpecError, resolveModelSpec } from '../../src/inference/model-spec.js';

const FALLBACKS = { labels: ['Normal', 'Leak'] as const, mean: [0.5, 0.5, 0.5] as const, std: [0.25, 0.25, 0.25] as const };
const tensor = (name: string, shape: (number | string)[], type = 'float32'): IoMeta => ({ name, isTensor: true, type, shape });
const resolve = (input: IoMeta, output: IoMeta, metadata: Record<string, string> = {}, producers: Record<string, string> = {}) =>
  resolveModelSpec([input], [output], metadata, producers, FALLBACKS);

describe('resolveModelSpec', () => {
  it('reads NCHW geometry and a dynamic batch', () => {
    const spec = resolve(tensor('x', ['batch', 3, 224, 200]), tensor('y', ['batch', 2]));
    assert.deepEqual([spec.layout, spec.height, spec.width, spec.fixedBatch], ['NCHW', 224, 200, null]);
    assert.equal(spec.outputKind, 'logits2');
  });

  it('reads NHWC geometry and a fixed batch', () => {
    const spec = resolve(tensor('x', [1, 120, 160, 3]), tensor('y', [1, 2]));
    assert.deepEqual([spec.layout, spec.height, spec.width, spec.fixedBatch], ['NHWC', 120, 160, 1]);
  });

  it('applies softmax or sigmoid only when the graph does not end in one', () => {
    assert.equal(resolve(tensor('x', [-1, 3, 8, 8]), tensor('y', [-1, 2]), {}, { y: 'Softmax' }).outputKind, 'probs2');
    assert.equal(resolve(tensor('x', [-1, 3, 8, 8]), tensor('y', [-1, 1]), {}, { y: 'Sigmoid' }).outputKind, 'prob1');
    assert.equal(resolve(tensor('x', [-1, 3, 8, 8]), tensor('y', [-1, 1]), {}, { y: 'Gemm' }).outputKind, 'logit1');
  });

  it('takes labels, mean and std from metadata (JSON or comma-separated), else from config', () => {
    const spec = resolve(tensor('x', [-1, 3, 8, 8]), tensor('y', [-1, 2]), { labels: '["ok","leak"]', mean: '0.1, 0.2, 0.3', std: '[1,2,3]' });
    assert.deepEqual(spec.labels, ['ok', 'leak']);
    assert.deepEqual(spec.mean, [0.1, 0.2, 0.3]);
    assert.deepEqual(spec.std, [1, 2, 3]);
    assert.deepEqual(spec.source, { labels: 'model', normalization: 'model' });
    const plain = resolve(tensor('x', [-1, 3, 8, 8]), tensor('y', [-1, 2]));
    assert.deepEqual([plain.labels, plain.mean, plain.std], [FALLBACKS.labels, FALLBACKS.mean, FALLBACKS.std]);
    assert.deepEqual(plain.source, { labels: 'config', normalization: 'config' });
  });

  it('rejects what it cannot serve, saying why', () => {
    const cases: [IoMeta, IoMeta, Record<string, string>, RegExp][] = [
      [tensor('x', [-1, 3, 8]), tensor('y', [-1, 2]), {}, /4-D/],
      [tensor('x', [-1, 1, 8, 8]), tensor('y', [-1, 2]), {}, /3 channels/],
      [tensor('x', [-1, 3, 'h', 'w']), tensor('y', [-1, 2]), {}, /fixed height and width/],
      [tensor('x', [-1, 3, 8, 8], 'uint8'), tensor('y', [-1, 2]), {}, /float32/],
      [tensor('x', [-1, 3, 8, 8]), tensor('y', [-1, 3]), {}, /\[N,2\]/],
      [tensor('x', [-1, 3, 8, 8]), tensor('y', [-1, 2]), { labels: '["a","b","c"]' }, /labels/],
      [tensor('x', [-1, 3, 8, 8]), tensor('y', [-1, 2]), { std: '[1,0,1]' }, /std/],
    ];
    for (const [input, output, meta, message] of cases) {
      assert.throws(() => resolve(input, output, meta), (err: Error) => err instanceof ModelSpecError && message.test(err.message));
    }
  });
});
