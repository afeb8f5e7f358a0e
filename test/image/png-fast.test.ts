import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { deflateSync, inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { decodePng, decodeWithSharp, inspectPng } from '../../src/image/decode-png.js';
import { decodePlainPng } from '../../src/image/png-fast.js';
import type { RawImage } from '../../src/preprocess/index.js';
import { type PngColour, encodePng, pngChunk } from '../../src/synth/png-encode.js';
import { IEND, SIGNATURE, chunkOf, chunksOf, flipLast, ihdr } from '../helpers/png-bytes.js';
import { ROOT } from '../helpers/paths.js';

/*
 * The fast path (png-fast.ts) against sharp, the reference: for every file it accepts, the same
 * RawImage, sample for sample; every file it must not judge, declined (undefined), so that sharp
 * decides. decode-png.test.ts holds decodePng, which uses both, to hand-computed expectations.
 */

const LIMITS = { maxPixels: 10_000_000 };

/** Both decoders on one file: the fast path must accept it and agree with sharp exactly. */
async function assertSame(png: Uint8Array, what: string): Promise<RawImage> {
  const { png: essential, header } = inspectPng(png, LIMITS);
  const fast = decodePlainPng(essential);
  assert.ok(fast, `${what}: the fast path accepts it`);
  const reference = await decodeWithSharp(essential, header);
  assert.deepEqual({ ...fast, data: fast.data.constructor.name }, { ...reference, data: reference.data.constructor.name }, what);
  assert.ok(Buffer.from(fast.data.buffer, fast.data.byteOffset, fast.data.byteLength).equals(Buffer.from(reference.data.buffer, reference.data.byteOffset, reference.data.byteLength)), `${what}: same samples`);
  return fast;
}

/** Deterministic, textured samples in [0, max] (so that every row filter has something to do). */
function texture(count: number, max: number, seed = 1): number[] {
  let s = seed;
  return Array.from({ length: count }, (_, i) => {
    s = (s * 1103515245 + 12345) >>> 0;
    return i % 7 === 0 ? (s >>> 8) % (max + 1) : Math.round(((Math.sin(i / 9) + 1) / 2) * max);
  });
}

/** A PNG's image data: its IDAT chunks' contents, joined. */
const idatOf = (png: Buffer) => Buffer.concat(chunksOf(png).filter((c) => c.type === 'IDAT').map((c) => c.data));

/** The filter type byte of each row of a PNG's image data. */
function filterTypes(png: Buffer, width: number, bytesPerPixel: number): Set<number> {
  const data = inflateSync(idatOf(png));
  const stride = width * bytesPerPixel + 1;
  return new Set(Array.from({ length: data.length / stride }, (_, y) => data[y * stride]!));
}

/** Applies PNG filter `type` to one row (the encoder's side), given the previous raw row. */
function filterRow(type: number, row: Uint8Array, prev: Uint8Array, bpp: number): number[] {
  return Array.from(row, (x, i) => {
    const a = i >= bpp ? row[i - bpp]! : 0;
    const b = prev[i]!;
    const c = i >= bpp ? prev[i - bpp]! : 0;
    const p = a + b - c;
    const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
    const predictor = [0, a, b, (a + b) >> 1, paeth][type]!;
    return (x - predictor) & 0xff;
  });
}

describe('png-fast: the same RawImage as sharp for every plain variant', () => {
  const cases: { colour: PngColour; stored: number; max: number }[] = [
    { colour: { type: 'gray', depth: 8 }, stored: 1, max: 255 },
    { colour: { type: 'gray', depth: 16 }, stored: 1, max: 65535 },
    { colour: { type: 'gray-alpha', depth: 8 }, stored: 2, max: 255 },
    { colour: { type: 'gray-alpha', depth: 16 }, stored: 2, max: 65535 },
    { colour: { type: 'rgb', depth: 8 }, stored: 3, max: 255 },
    { colour: { type: 'rgb', depth: 16 }, stored: 3, max: 65535 },
    { colour: { type: 'rgba', depth: 8 }, stored: 4, max: 255 },
    { colour: { type: 'rgba', depth: 16 }, stored: 4, max: 65535 },
    { colour: { type: 'palette', palette: new Uint8Array(texture(256 * 3, 255, 5)) }, stored: 1, max: 255 },
    { colour: { type: 'palette', palette: new Uint8Array(texture(12 * 3, 255, 6)), alpha: new Uint8Array([0, 9, 200]) }, stored: 1, max: 11 },
  ];
  for (const { colour, stored, max } of cases) {
    const name = `${colour.type}${'depth' in colour ? ` ${colour.depth}-bit` : colour.alpha ? ' with tRNS' : ''}`;
    it(`${name}, odd sizes (1×1, 1 column, 1 row, 37×23)`, async () => {
      for (const [width, height] of [[1, 1], [1, 9], [17, 1], [37, 23]] as const) {
        await assertSame(encodePng({ width, height, colour, samples: texture(width * height * stored, max) }), `${name} ${width}x${height}`);
      }
    });
  }

  it('every row filter (None, Sub, Up, Average, Paeth), row by row, at 1, 2, 3, 4, 6 and 8 bytes per pixel', async () => {
    const variants = [[0, 8, 1], [4, 8, 2], [2, 8, 3], [6, 8, 4], [2, 16, 6], [6, 16, 8]] as const;
    for (const [colourType, depth, bpp] of variants) {
      const width = 11;
      const height = 10; // two rows of each filter type: the first row of each pair has a real row above
      const stride = width * bpp;
      const raw = new Uint8Array(texture(stride * height, 255, colourType + depth));
      const rows: number[] = [];
      for (let y = 0; y < height; y++) {
        const type = y % 5;
        const prev = y === 0 ? new Uint8Array(stride) : raw.subarray((y - 1) * stride, y * stride);
        rows.push(type, ...filterRow(type, raw.subarray(y * stride, (y + 1) * stride), prev, bpp));
      }
      const png = Buffer.concat([SIGNATURE, ihdr(width, height, depth, colourType), pngChunk('IDAT', deflateSync(Buffer.from(rows))), IEND]);
      const decoded = await assertSame(png, `colour type ${colourType}, ${depth}-bit`);
      if (colourType === 2 && depth === 8) assert.deepEqual(Array.from(decoded.data), Array.from(raw), 'the samples written');
    }
  });

  it('images written by sharp (adaptive filtering: the filters appear as a real encoder picks them), IDAT split in many chunks', async () => {
    for (const channels of [1, 3, 4] as const) {
      const width = 97;
      const height = 61;
      // A smooth field with a fine pattern on it, like a thermal frame: the encoder varies its filters.
      const pixels = Buffer.alloc(width * height * channels);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          for (let c = 0; c < channels; c++) {
            const v = 128 + 60 * Math.sin(x / 7 + c) * Math.cos(y / 5) + ((x * 7 + y * 13 + c * 3) % 11) * 3;
            pixels[(y * width + x) * channels + c] = Math.max(0, Math.min(255, Math.round(v)));
          }
        }
      }
      const png = await sharp(pixels, { raw: { width, height, channels } }).png({ adaptiveFiltering: true, compressionLevel: 6 }).toBuffer();
      const types = filterTypes(png, width, channels);
      assert.ok(types.size >= 3, `sharp chose several filters (${[...types].join(', ')})`);
      await assertSame(png, `sharp, ${channels} channel(s)`);
      // The same image data in 100-byte IDAT chunks.
      const idat = idatOf(png);
      const pieces = Array.from({ length: Math.ceil(idat.length / 100) }, (_, i) => pngChunk('IDAT', idat.subarray(i * 100, (i + 1) * 100)));
      const split = Buffer.concat([SIGNATURE, chunkOf(png, 'IHDR').bytes, ...pieces, IEND]);
      assert.ok(pieces.length > 10);
      await assertSame(split, `sharp, ${channels} channel(s), split IDAT`);
    }
  });

  it('the parity fixtures (every size and PNG type the generator writes): the non-interlaced ones take the fast path and match sharp', async () => {
    const dir = join(ROOT, 'test/fixtures/parity');
    const files = readdirSync(dir).filter((f) => f.endsWith('.png'));
    let plain = 0;
    for (const f of files) {
      const bytes = readFileSync(join(dir, f));
      if (bytes[28] === 1) {
        assert.equal(decodePlainPng(bytes), undefined, `${f} is interlaced: declined`);
        continue;
      }
      await assertSame(bytes, f);
      plain++;
    }
    assert.ok(plain >= 20, `${plain} of ${files.length}`);
  });
});

describe('png-fast: declines what it must not judge (sharp decides)', () => {
  const samples = texture(6 * 4 * 3, 255);
  const good = encodePng({ width: 6, height: 4, colour: { type: 'rgb', depth: 8 }, samples });
  const [head, idat] = chunksOf(good);
  const withIdat = (data: Uint8Array) => Buffer.concat([SIGNATURE, head!.bytes, pngChunk('IDAT', data), IEND]);
  const rows = inflateSync(idat!.data);

  it('the control decodes on the fast path', () => {
    assert.ok(decodePlainPng(good));
  });

  const declined: [string, () => Uint8Array][] = [
    ['interlaced', () => encodePng({ width: 6, height: 4, colour: { type: 'rgb', depth: 8 }, samples, interlace: true })],
    ['grey 4-bit', () => encodePng({ width: 6, height: 4, colour: { type: 'gray', depth: 4 }, samples: texture(24, 15) })],
    ['a tRNS colour key on RGB', () => encodePng({ width: 6, height: 4, colour: { type: 'rgb', depth: 8 }, samples }, [pngChunk('tRNS', Buffer.from([0, 1, 0, 2, 0, 3]))])],
    ['a suggested palette (PLTE) in an RGB image', () => encodePng({ width: 6, height: 4, colour: { type: 'rgb', depth: 8 }, samples }, [pngChunk('PLTE', Buffer.alloc(6))])],
    ['bad IHDR CRC', () => Buffer.concat([SIGNATURE, flipLast(head!.bytes), idat!.bytes, IEND])],
    ['bad IDAT CRC', () => Buffer.concat([SIGNATURE, head!.bytes, flipLast(idat!.bytes), IEND])],
    ['bad zlib checksum', () => withIdat(flipLast(idat!.data))],
    ['zlib stream cut short', () => withIdat(idat!.data.subarray(0, idat!.data.length - 6))],
    ['bytes after the end of the zlib stream', () => withIdat(Buffer.concat([idat!.data, Buffer.from([1, 2, 3])]))],
    ['one row too few', () => withIdat(deflateSync(rows.subarray(0, rows.length - 19)))],
    ['one byte too many', () => withIdat(deflateSync(Buffer.concat([rows, Buffer.from([0])])))],
    ['an unknown row filter (5)', () => withIdat(deflateSync(Buffer.concat([Buffer.from([5]), rows.subarray(1)])))],
    ['no IEND', () => Buffer.concat([SIGNATURE, head!.bytes, idat!.bytes])],
    ['no IDAT', () => Buffer.concat([SIGNATURE, head!.bytes, IEND])],
    ['a palette index past the palette', () => encodePng({ width: 2, height: 1, colour: { type: 'palette', palette: new Uint8Array(6) }, samples: [0, 2] })],
    ['a palette image without PLTE', () => Buffer.concat([SIGNATURE, ihdr(2, 1, 8, 3), pngChunk('IDAT', deflateSync(Buffer.from([0, 0, 0]))), IEND])],
    ['more tRNS entries than palette entries', () => encodePng({ width: 2, height: 1, colour: { type: 'palette', palette: new Uint8Array(6), alpha: new Uint8Array([1, 2, 3]) }, samples: [0, 1] })],
  ];
  for (const [name, make] of declined) {
    it(`${name}: declined`, async () => {
      const bytes = make();
      assert.equal(decodePlainPng(bytes), undefined);
      // decodePng still answers, from sharp: pixels or a DecodeError, never an exception of another kind.
      await decodePng(bytes, LIMITS).then(
        (raw) => assert.ok(raw.width > 0),
        (err: unknown) => assert.equal((err as Error).name, 'DecodeError'),
      );
    });
  }
});
