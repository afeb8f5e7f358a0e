import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { resizeBilinear } from '../../src/preprocess/index.js';
import type { Rgb8Image } from '../../src/preprocess/index.js';

// Written by training/make_pil_fixtures.py with Pillow 9.4.
interface FixtureImage {
  width: number;
  height: number;
  file: string;
  filter: 'none' | 'sub' | 'up';
}
interface FixtureIndex {
  pillow: string;
  cases: { name: string; input: FixtureImage; outputs: FixtureImage[] }[];
}

const dir = new URL('../fixtures/pil/', import.meta.url);
const index = JSON.parse(readFileSync(new URL('index.json', dir), 'utf8')) as FixtureIndex;

function load(f: FixtureImage): Rgb8Image {
  const data = new Uint8Array(gunzipSync(readFileSync(new URL(f.file, dir))));
  assert.equal(data.length, f.width * f.height * 3, `${f.file} size`);
  const stride = f.width * 3;
  if (f.filter === 'sub') {
    for (let row = 0; row < data.length; row += stride) {
      for (let i = row + 3; i < row + stride; i++) data[i] = (data[i]! + data[i - 3]!) & 255;
    }
  } else if (f.filter === 'up') {
    for (let i = stride; i < data.length; i++) data[i] = (data[i]! + data[i - stride]!) & 255;
  }
  return { data, width: f.width, height: f.height };
}

function assertSameImage(actual: Rgb8Image, expected: Rgb8Image): void {
  assert.equal(actual.width, expected.width);
  assert.equal(actual.height, expected.height);
  let mismatches = 0;
  let first = -1;
  for (let i = 0; i < expected.data.length; i++) {
    if (actual.data[i] !== expected.data[i]) {
      if (first < 0) first = i;
      mismatches++;
    }
  }
  if (mismatches > 0) {
    const px = Math.floor(first / 3);
    assert.fail(
      `${mismatches} of ${expected.data.length} bytes differ; first at x=${px % expected.width} ` +
        `y=${Math.floor(px / expected.width)} channel ${first % 3}: ` +
        `got ${actual.data[first]}, Pillow ${expected.data[first]}`,
    );
  }
}

void describe(`resizeBilinear matches Pillow ${index.pillow} bit for bit`, () => {
  for (const c of index.cases) {
    const input = load(c.input);
    for (const out of c.outputs) {
      void test(`${c.name} -> ${out.width}x${out.height}`, () => {
        assertSameImage(resizeBilinear(input, out.width, out.height), load(out));
      });
    }
  }
});
