import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sampleLength, writeTensor } from '../../src/preprocess/index.js';
import type { Rgb8Image, TensorSpec } from '../../src/preprocess/index.js';

const mean = [0.485, 0.456, 0.406] as const;
const std = [0.229, 0.224, 0.225] as const;
const nchw: TensorSpec = { width: 2, height: 1, layout: 'NCHW', mean, std };
const nhwc: TensorSpec = { ...nchw, layout: 'NHWC' };
// Two pixels: (200, 100, 50) and (0, 255, 128).
const img: Rgb8Image = { data: new Uint8Array([200, 100, 50, 0, 255, 128]), width: 2, height: 1 };

const n = (v: number, c: 0 | 1 | 2): number => (v / 255 - mean[c]) / std[c];

function assertClose(actual: ArrayLike<number>, expected: number[]): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) < 1e-6, `[${i}] ${actual[i]} != ${expected[i]}`);
  }
}

void describe('writeTensor', () => {
  void test('sampleLength is 3 x height x width', () => {
    assert.equal(sampleLength({ ...nchw, width: 224, height: 112 }), 3 * 224 * 112);
  });

  void test('writes NCHW planes', () => {
    const out = new Float32Array(6);
    writeTensor(img, nchw, out);
    assert.ok(Math.abs(out[0]! - (200 / 255 - 0.485) / 0.229) < 1e-6);
    assert.ok(Math.abs(out[0]! - 1.3070468) < 1e-6);
    assertClose(out, [n(200, 0), n(0, 0), n(100, 1), n(255, 1), n(50, 2), n(128, 2)]);
  });

  void test('writes NHWC pixels', () => {
    const out = new Float32Array(6);
    writeTensor(img, nhwc, out);
    assertClose(out, [n(200, 0), n(100, 1), n(50, 2), n(0, 0), n(255, 1), n(128, 2)]);
  });

  void test('uses the spec mean and std', () => {
    const out = new Float32Array(6);
    writeTensor(img, { ...nhwc, mean: [0, 0.5, 1], std: [1, 0.5, 2] }, out);
    assertClose(out, [200 / 255, (100 / 255 - 0.5) / 0.5, (50 / 255 - 1) / 2, 0, 1, (128 / 255 - 1) / 2]);
  });

  void test('writes one sample of a batch at an element offset, leaving the rest alone', () => {
    const out = new Float32Array(3 * 6).fill(Number.NaN);
    writeTensor(img, nchw, out, 6);
    assert.ok(out.subarray(0, 6).every(Number.isNaN));
    assert.ok(out.subarray(12).every(Number.isNaN));
    assertClose(out.subarray(6, 12), [n(200, 0), n(0, 0), n(100, 1), n(255, 1), n(50, 2), n(128, 2)]);
  });

  void test('rejects an image that is not spec-sized', () => {
    assert.throws(() => {
      writeTensor(img, { ...nchw, width: 1, height: 2 }, new Float32Array(6));
    }, RangeError);
    const short: Rgb8Image = { ...img, data: img.data.subarray(0, 5) };
    assert.throws(() => {
      writeTensor(short, nchw, new Float32Array(6));
    }, RangeError);
  });

  void test('rejects an output too short for the sample at that offset', () => {
    assert.throws(() => {
      writeTensor(img, nchw, new Float32Array(5));
    }, RangeError);
    assert.throws(() => {
      writeTensor(img, nchw, new Float32Array(12), 7);
    }, RangeError);
    assert.throws(() => {
      writeTensor(img, nchw, new Float32Array(12), -1);
    }, RangeError);
    assert.throws(() => {
      writeTensor(img, nchw, new Float32Array(12), 0.5);
    }, RangeError);
  });

  void test('rejects a zero std', () => {
    assert.throws(() => {
      writeTensor(img, { ...nchw, std: [0.229, 0, 0.225] }, new Float32Array(6));
    }, RangeError);
  });
});
