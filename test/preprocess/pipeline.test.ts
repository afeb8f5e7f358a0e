import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { preprocess, resizeBilinear, sampleLength, writeTensor } from '../../src/preprocess/index.js';
import type { RawImage, TensorSpec } from '../../src/preprocess/index.js';

const mean = [0.485, 0.456, 0.406] as const;
const std = [0.229, 0.224, 0.225] as const;
const n = (v: number, c: 0 | 1 | 2): number => (v / 255 - mean[c]) / std[c];

function assertClose(actual: ArrayLike<number>, expected: number[]): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) < 1e-6, `[${i}] ${actual[i]} != ${expected[i]}`);
  }
}

void describe('preprocess', () => {
  void test('converts a 16-bit grey image already at the input size', () => {
    const raw: RawImage = { data: new Uint16Array([65280, 1000]), width: 2, height: 1, channels: 1, depth: 16 };
    const out = preprocess(raw, { width: 2, height: 1, layout: 'NCHW', mean, std });
    assertClose(out, [n(255, 0), n(3, 0), n(255, 1), n(3, 1), n(255, 2), n(3, 2)]);
  });

  void test('resizes RGBA to the input size before normalizing', () => {
    // The 2 -> 4 doubling of (0, 255) is 0, 64, 191, 255 (see resize-bilinear.test.ts).
    const raw: RawImage = {
      data: new Uint8Array([0, 255, 9, 1, 255, 0, 9, 200]),
      width: 2,
      height: 1,
      channels: 4,
      depth: 8,
    };
    const out = preprocess(raw, { width: 4, height: 1, layout: 'NHWC', mean, std });
    const px = [[0, 255, 9], [64, 191, 9], [191, 64, 9], [255, 0, 9]] as const;
    assertClose(out, px.flatMap(([r, g, b]) => [n(r, 0), n(g, 1), n(b, 2)]));
  });

  void test('equals toRgb8, resizeBilinear and writeTensor composed', () => {
    const width = 50;
    const height = 30;
    const data = new Uint8Array(width * height * 3).map((_, i) => (i * 37) % 256);
    const spec: TensorSpec = { width: 16, height: 20, layout: 'NCHW', mean, std };
    const expected = new Float32Array(sampleLength(spec));
    writeTensor(resizeBilinear({ data, width, height }, 16, 20), spec, expected);
    assert.deepEqual(preprocess({ data, width, height, channels: 3, depth: 8 }, spec), expected);
  });

  void test('fills a batch one sample at a time', () => {
    const spec: TensorSpec = { width: 1, height: 1, layout: 'NCHW', mean, std };
    const batch = new Float32Array(2 * sampleLength(spec));
    const red: RawImage = { data: new Uint8Array([255, 0, 0]), width: 1, height: 1, channels: 3, depth: 8 };
    const grey: RawImage = { data: new Uint8Array([128]), width: 1, height: 1, channels: 1, depth: 8 };
    assert.equal(preprocess(red, spec, batch, 0), batch);
    assert.equal(preprocess(grey, spec, batch, sampleLength(spec)), batch);
    assertClose(batch, [n(255, 0), n(0, 1), n(0, 2), n(128, 0), n(128, 1), n(128, 2)]);
  });

  void test('rejects an offset without room for the sample', () => {
    const spec: TensorSpec = { width: 1, height: 1, layout: 'NCHW', mean, std };
    const grey: RawImage = { data: new Uint8Array([128]), width: 1, height: 1, channels: 1, depth: 8 };
    assert.throws(() => preprocess(grey, spec, undefined, 3), RangeError);
    assert.throws(() => preprocess(grey, spec, new Float32Array(5), 3), RangeError);
  });
});
