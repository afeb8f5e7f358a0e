import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toRgb8 } from '../../src/preprocess/index.js';
import type { RawImage } from '../../src/preprocess/index.js';

function raw(data: Uint8Array | Uint16Array, width: number, channels: RawImage['channels']): RawImage {
  const depth = data instanceof Uint16Array ? 16 : 8;
  return { data, width, height: data.length / width / channels, channels, depth };
}

void describe('toRgb8', () => {
  void test('replicates 8-bit grey into R, G and B', () => {
    const out = toRgb8(raw(new Uint8Array([0, 128, 255, 7]), 2, 1));
    assert.deepEqual([out.width, out.height], [2, 2]);
    assert.deepEqual([...out.data], [0, 0, 0, 128, 128, 128, 255, 255, 255, 7, 7, 7]);
  });

  void test('drops the alpha of grey + alpha without compositing', () => {
    const out = toRgb8(raw(new Uint8Array([10, 0, 200, 255]), 2, 2));
    assert.deepEqual([...out.data], [10, 10, 10, 200, 200, 200]);
  });

  void test('passes 8-bit RGB through without copying', () => {
    const data = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const out = toRgb8(raw(data, 2, 3));
    assert.equal(out.data, data);
    assert.deepEqual([out.width, out.height], [2, 1]);
  });

  void test('drops the alpha of RGBA without compositing', () => {
    const out = toRgb8(raw(new Uint8Array([10, 20, 30, 0, 40, 50, 60, 128]), 2, 4));
    assert.deepEqual([...out.data], [10, 20, 30, 40, 50, 60]);
  });

  void test('keeps the high byte of 16-bit grey', () => {
    const out = toRgb8(raw(new Uint16Array([65280, 1000, 511, 65535, 255, 256]), 6, 1));
    assert.deepEqual([...out.data], [255, 255, 255, 3, 3, 3, 1, 1, 1, 255, 255, 255, 0, 0, 0, 1, 1, 1]);
  });

  void test('keeps the high byte of 16-bit grey + alpha', () => {
    const out = toRgb8(raw(new Uint16Array([1000, 65535, 65280, 0]), 2, 2));
    assert.deepEqual([...out.data], [3, 3, 3, 255, 255, 255]);
  });

  void test('keeps the high byte of 16-bit RGB', () => {
    const out = toRgb8(raw(new Uint16Array([65280, 1000, 511, 0, 65535, 32768]), 2, 3));
    assert.ok(out.data instanceof Uint8Array);
    assert.deepEqual([...out.data], [255, 3, 1, 0, 255, 128]);
  });

  void test('keeps the high byte of 16-bit RGBA and drops alpha', () => {
    const out = toRgb8(raw(new Uint16Array([1000, 511, 65280, 7]), 1, 4));
    assert.deepEqual([...out.data], [3, 1, 255]);
  });

  void test('rejects data whose length does not match the size', () => {
    const bad: RawImage = { data: new Uint8Array(11), width: 2, height: 2, channels: 3, depth: 8 };
    assert.throws(() => toRgb8(bad), RangeError);
    assert.throws(() => toRgb8({ ...bad, data: new Uint8Array(13) }), RangeError);
  });

  void test('rejects empty or fractional sizes', () => {
    assert.throws(() => toRgb8({ data: new Uint8Array(0), width: 0, height: 1, channels: 1, depth: 8 }), RangeError);
    assert.throws(() => toRgb8({ data: new Uint8Array(3), width: 1.5, height: 2, channels: 1, depth: 8 }), RangeError);
  });

  void test('rejects channel counts and depths outside the type', () => {
    const data = new Uint8Array(5);
    assert.throws(() => toRgb8({ data, width: 1, height: 1, channels: 5 as 4, depth: 8 }), RangeError);
    assert.throws(() => toRgb8({ data, width: 1, height: 1, channels: 1, depth: 12 as 8 }), RangeError);
  });

  void test('rejects an array type that does not match the depth', () => {
    assert.throws(() => toRgb8({ data: new Uint8Array(3), width: 1, height: 1, channels: 3, depth: 16 }), TypeError);
    assert.throws(() => toRgb8({ data: new Uint16Array(3), width: 1, height: 1, channels: 3, depth: 8 }), TypeError);
  });
});
