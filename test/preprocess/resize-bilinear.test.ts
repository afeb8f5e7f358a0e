import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bilinearCoefficients } from '../../src/preprocess/bilinear-coeffs.js';
import { resizeBilinear } from '../../src/preprocess/index.js';
import type { Rgb8Image } from '../../src/preprocess/index.js';

function rgb(width: number, height: number, pixels: number[]): Rgb8Image {
  return { data: new Uint8Array(pixels), width, height };
}

void describe('resizeBilinear', () => {
  void test('returns the input itself when the size is unchanged', () => {
    const img = rgb(1, 1, [1, 2, 3]);
    assert.equal(resizeBilinear(img, 1, 1), img);
  });

  // 4 -> 2: scale 2, three taps per output weighted 3/7, 3/7, 1/7 (and mirrored), 22-bit fixed point.
  void test('halves a row with the antialiased triangle filter', () => {
    const img = rgb(4, 1, [0, 10, 255, 70, 20, 255, 140, 30, 255, 210, 40, 255]);
    const out = resizeBilinear(img, 2, 1);
    assert.deepEqual([out.width, out.height], [2, 1]);
    assert.deepEqual([...out.data], [50, 17, 255, 160, 33, 255]);
  });

  // 2 -> 4: weights 1, 3/4 + 1/4, 1/4 + 3/4, 1; 63.75 rounds to 64, 191.25 to 191.
  void test('doubles a row, rounding to nearest', () => {
    const out = resizeBilinear(rgb(2, 1, [0, 255, 9, 255, 0, 9]), 4, 1);
    assert.deepEqual([...out.data], [0, 255, 9, 64, 191, 9, 191, 64, 9, 255, 0, 9]);
  });

  void test('doubles a column the same way', () => {
    const out = resizeBilinear(rgb(1, 2, [0, 255, 9, 255, 0, 9]), 1, 4);
    assert.deepEqual([out.width, out.height], [1, 4]);
    assert.deepEqual([...out.data], [0, 255, 9, 64, 191, 9, 191, 64, 9, 255, 0, 9]);
  });

  void test('keeps a uniform image uniform at any scale', () => {
    const img = rgb(37, 23, Array.from({ length: 37 * 23 }, () => [12, 200, 255]).flat());
    for (const [w, h] of [[224, 224], [5, 3], [1, 1], [37, 100]] as const) {
      const out = resizeBilinear(img, w, h);
      assert.equal(out.data.length, w * h * 3);
      for (let i = 0; i < out.data.length; i += 3) {
        assert.deepEqual([out.data[i], out.data[i + 1], out.data[i + 2]], [12, 200, 255]);
      }
    }
  });

  void test('does not modify its input', () => {
    const img = rgb(3, 2, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 10, 20, 30, 40, 50, 60, 70, 80]);
    const copy = img.data.slice();
    resizeBilinear(img, 2, 5);
    assert.deepEqual(img.data, copy);
  });

  void test('rejects bad sizes and data lengths', () => {
    const img = rgb(2, 1, [0, 0, 0, 0, 0, 0]);
    assert.throws(() => resizeBilinear(img, 0, 1), RangeError);
    assert.throws(() => resizeBilinear(img, 2.5, 1), RangeError);
    assert.throws(() => resizeBilinear(img, 1, Number.NaN), RangeError);
    assert.throws(() => resizeBilinear(rgb(2, 2, [0, 0, 0]), 1, 1), RangeError);
    assert.throws(() => resizeBilinear(rgb(0, 0, []), 1, 1), RangeError);
  });
});

void describe('bilinearCoefficients', () => {
  void test('follows precompute_coeffs and normalize_coeffs_8bpc for 4 -> 2', () => {
    const c = bilinearCoefficients(4, 2);
    assert.equal(c.ksize, 5);
    assert.deepEqual([...c.start], [0, 1]);
    assert.deepEqual([...c.count], [3, 3]);
    // round(3/7 * 2^22) = 1797559, round(1/7 * 2^22) = 599186
    assert.deepEqual([...c.weights.subarray(0, 3)], [1797559, 1797559, 599186]);
    assert.deepEqual([...c.weights.subarray(5, 8)], [599186, 1797559, 1797559]);
  });

  void test('memoizes in a bounded map', () => {
    const first = bilinearCoefficients(640, 224);
    assert.equal(bilinearCoefficients(640, 224), first);
    for (let n = 1; n <= 64; n++) bilinearCoefficients(1000 + n, 7);
    assert.notEqual(bilinearCoefficients(640, 224), first);
    assert.deepEqual(bilinearCoefficients(640, 224), first);
  });
});
