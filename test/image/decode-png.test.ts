import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { DecodeError, decodePng, inspectPng } from '../../src/image/decode-png.js';
import { decodePlainPng } from '../../src/image/png-fast.js';
import type { RawImage } from '../../src/preprocess/index.js';
import { type PngColour, encodePng, pngChunk } from '../../src/synth/png-encode.js';
import { ROOT } from '../helpers/paths.js';
import { IEND, SIGNATURE, assemble, chunkOf, chunksOf, flipLast, ihdr, insertChunk } from '../helpers/png-bytes.js';

/*
 * decodePng against hand-computed expectations. Images are written with our own encoder (every
 * colour type, bit depth and interlacing) or chunk by chunk, so each test knows the exact samples.
 * Contract under test: palette expands to its colours, grey comes out as RGB (grey replicated),
 * tRNS becomes an alpha channel, 16-bit stays 16-bit in a Uint16Array, sub-8-bit grey is
 * bit-replicated to 8 bits; colour-management chunks are ignored (samples arrive as stored).
 */

const LIMITS = { maxPixels: 1_000_000 };

/** Deterministic samples in [0, max], hitting both ends and (for 16-bit) distinct low bytes. */
function samplesFor(count: number, max: number): number[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? 0 : i === 1 ? max : (i * 4099 + 7) % (max + 1)));
}

function png(width: number, height: number, colour: PngColour, samples: ArrayLike<number>, opts: { interlace?: boolean; extra?: Buffer[] } = {}) {
  return encodePng({ width, height, colour, samples, interlace: opts.interlace ?? false }, opts.extra ?? []);
}

function assertImage(raw: RawImage, expected: { width: number; height: number; channels: number; depth: 8 | 16; data: number[] }) {
  assert.deepEqual(
    { width: raw.width, height: raw.height, channels: raw.channels, depth: raw.depth },
    { width: expected.width, height: expected.height, channels: expected.channels, depth: expected.depth },
  );
  assert.ok(raw.data instanceof (expected.depth === 16 ? Uint16Array : Uint8Array), `depth ${expected.depth} comes in a ${expected.depth === 16 ? 'Uint16Array' : 'Uint8Array'}`);
  assert.deepEqual(Array.from(raw.data), expected.data);
}

/** Grey samples as the decoder hands them over: scaled to 8 bits by bit replication (16 stays), replicated into RGB. */
function greyAsRgb(samples: number[], depth: number, alpha?: number[]): number[] {
  const scale = depth === 16 || depth === 8 ? 1 : 255 / ((1 << depth) - 1);
  return samples.flatMap((v, i) => (alpha ? [v * scale, v * scale, v * scale, alpha[i]!] : [v * scale, v * scale, v * scale]));
}

async function refused(bytes: Uint8Array, kind: DecodeError['kind'], limits = LIMITS): Promise<DecodeError> {
  const outcome = await decodePng(bytes, limits).then(
    (raw) => new Error(`decoded to ${raw.width}x${raw.height}x${raw.channels}`),
    (err: unknown) => err,
  );
  assert.ok(outcome instanceof DecodeError, `expected a DecodeError, got ${String(outcome)}`);
  assert.equal(outcome.kind, kind, outcome.message);
  return outcome;
}

/** Decodes in a separate node process with sharp as shipped (no loader blocked): what sharp could do. */
async function decodeWithPlainSharp(bytes: Buffer): Promise<{ format: string; width: number; height: number; channels: number }> {
  const script = `import sharp from 'sharp';
const parts = []; for await (const p of process.stdin) parts.push(p);
const input = Buffer.concat(parts);
const { format } = await sharp(input).metadata();
const { info } = await sharp(input).raw().toBuffer({ resolveWithObject: true });
process.stdout.write(JSON.stringify({ format, width: info.width, height: info.height, channels: info.channels }));`;
  const child = promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT });
  child.child.stdin!.end(bytes);
  const { stdout } = await child;
  return JSON.parse(stdout) as { format: string; width: number; height: number; channels: number };
}

describe('decodePng: every colour type and bit depth, exact samples', () => {
  for (const depth of [1, 2, 4, 8] as const) {
    it(`grey ${depth}-bit: bit-replicated to 8 bits and replicated into RGB (odd width, so rows end mid-byte)`, async () => {
      const samples = samplesFor(13 * 5, (1 << depth) - 1);
      const raw = await decodePng(png(13, 5, { type: 'gray', depth }, samples), LIMITS);
      assertImage(raw, { width: 13, height: 5, channels: 3, depth: 8, data: greyAsRgb(samples, depth) });
    });
  }

  it('grey sub-8-bit scaling by hand: 1-bit 1 → 255, 2-bit 1 → 85, 4-bit 1 → 17', async () => {
    for (const [depth, one] of [[1, 255], [2, 85], [4, 17]] as const) {
      const raw = await decodePng(png(2, 1, { type: 'gray', depth }, [1, 0]), LIMITS);
      assert.deepEqual(Array.from(raw.data), [one, one, one, 0, 0, 0], `${depth}-bit`);
    }
  });

  it('grey 16-bit: every sample arrives whole (1000 stays 1000) in a Uint16Array, replicated into RGB', async () => {
    const samples = [1000, 0, 65535, 0x00ff, 0xff00, 0x1234, ...samplesFor(13 * 5 - 6, 65535)];
    const raw = await decodePng(png(13, 5, { type: 'gray', depth: 16 }, samples), LIMITS);
    assertImage(raw, { width: 13, height: 5, channels: 3, depth: 16, data: greyAsRgb(samples, 16) });
  });

  it('grey + alpha 8-bit: grey replicated, alpha kept as the fourth channel', async () => {
    const samples = samplesFor(7 * 3 * 2, 255);
    const grey = samples.filter((_, i) => i % 2 === 0);
    const alpha = samples.filter((_, i) => i % 2 === 1);
    const raw = await decodePng(png(7, 3, { type: 'gray-alpha', depth: 8 }, samples), LIMITS);
    assertImage(raw, { width: 7, height: 3, channels: 4, depth: 8, data: greyAsRgb(grey, 8, alpha) });
  });

  it('grey + alpha 16-bit: both stay 16-bit', async () => {
    const samples = [1000, 65535, 0x00ff, 0, ...samplesFor(7 * 3 * 2 - 4, 65535)];
    const grey = samples.filter((_, i) => i % 2 === 0);
    const alpha = samples.filter((_, i) => i % 2 === 1);
    const raw = await decodePng(png(7, 3, { type: 'gray-alpha', depth: 16 }, samples), LIMITS);
    assertImage(raw, { width: 7, height: 3, channels: 4, depth: 16, data: greyAsRgb(grey, 16, alpha) });
  });

  for (const [type, channels] of [['rgb', 3], ['rgba', 4]] as const) {
    for (const depth of [8, 16] as const) {
      it(`${type.toUpperCase()} ${depth}-bit: samples arrive exactly as written`, async () => {
        const samples = [...(depth === 16 ? [1000, 0x00ff, 0xff00] : [1, 254, 128]), ...samplesFor(9 * 4 * channels - 3, depth === 16 ? 65535 : 255)];
        const raw = await decodePng(png(9, 4, { type, depth }, samples), LIMITS);
        assertImage(raw, { width: 9, height: 4, channels, depth, data: samples });
      });
    }
  }

  it('16-bit samples are not reduced to 8 bits: a 16-bit twin (v × 257) of an 8-bit image decodes to v × 257', async () => {
    const eight = samplesFor(5 * 5 * 3, 255);
    const raw = await decodePng(png(5, 5, { type: 'rgb', depth: 16 }, eight.map((v) => v * 257)), LIMITS);
    assert.deepEqual(Array.from(raw.data), eight.map((v) => v * 257));
  });

  const PALETTE = new Uint8Array([10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42]);
  const colourOf = (i: number) => Array.from(PALETTE.subarray(i * 3, i * 3 + 3));

  it('palette (8-bit indices), no tRNS: each index becomes its palette colour, RGB', async () => {
    const indices = samplesFor(6 * 4, 3);
    const raw = await decodePng(png(6, 4, { type: 'palette', palette: PALETTE }, indices), LIMITS);
    assertImage(raw, { width: 6, height: 4, channels: 3, depth: 8, data: indices.flatMap(colourOf) });
  });

  it('palette with tRNS: RGBA, alpha from tRNS; entries past the end of tRNS are opaque', async () => {
    const alpha = [0, 128]; // entries 2 and 3 have none: 255
    const indices = samplesFor(6 * 4, 3);
    const raw = await decodePng(png(6, 4, { type: 'palette', palette: PALETTE, alpha: new Uint8Array(alpha) }, indices), LIMITS);
    assertImage(raw, { width: 6, height: 4, channels: 4, depth: 8, data: indices.flatMap((i) => [...colourOf(i), alpha[i] ?? 255]) });
  });

  it('palette with 1-, 2- and 4-bit indices (packed by hand)', async () => {
    const plte = pngChunk('PLTE', PALETTE);
    const cases = [
      // 10 pixels of 1 bit: 1011 0000 01 → indices 1,0,1,1,0,0,0,0,0,1
      { depth: 1, width: 10, row: [0b10110000, 0b01000000], indices: [1, 0, 1, 1, 0, 0, 0, 0, 0, 1] },
      { depth: 2, width: 4, row: [0b11100100], indices: [3, 2, 1, 0] },
      { depth: 4, width: 3, row: [0x32, 0x10], indices: [3, 2, 1] },
    ];
    for (const { depth, width, row, indices } of cases) {
      const bytes = assemble(ihdr(width, 1, depth, 3), plte, pngChunk('IDAT', deflateSync(Buffer.from([0, ...row]))), IEND);
      const raw = await decodePng(bytes, LIMITS);
      assertImage(raw, { width, height: 1, channels: 3, depth: 8, data: indices.flatMap(colourOf) });
    }
  });

  it('tRNS colour key on grey and RGB becomes an alpha channel (0 where the key matches, else the maximum)', async () => {
    const grey8 = await decodePng(png(3, 1, { type: 'gray', depth: 8 }, [7, 8, 7], { extra: [pngChunk('tRNS', Buffer.from([0, 7]))] }), LIMITS);
    assertImage(grey8, { width: 3, height: 1, channels: 4, depth: 8, data: [7, 7, 7, 0, 8, 8, 8, 255, 7, 7, 7, 0] });
    const grey2 = await decodePng(png(3, 1, { type: 'gray', depth: 2 }, [1, 2, 1], { extra: [pngChunk('tRNS', Buffer.from([0, 1]))] }), LIMITS);
    assertImage(grey2, { width: 3, height: 1, channels: 4, depth: 8, data: [85, 85, 85, 0, 170, 170, 170, 255, 85, 85, 85, 0] });
    const rgb8 = await decodePng(png(2, 1, { type: 'rgb', depth: 8 }, [1, 2, 3, 4, 5, 6], { extra: [pngChunk('tRNS', Buffer.from([0, 4, 0, 5, 0, 6]))] }), LIMITS);
    assertImage(rgb8, { width: 2, height: 1, channels: 4, depth: 8, data: [1, 2, 3, 255, 4, 5, 6, 0] });
    const key16 = Buffer.from([0x03, 0xe8, 0x07, 0xd0, 0x0b, 0xb8]); // 1000, 2000, 3000
    const rgb16 = await decodePng(png(2, 1, { type: 'rgb', depth: 16 }, [1000, 2000, 3000, 4, 5, 6], { extra: [pngChunk('tRNS', key16)] }), LIMITS);
    assertImage(rgb16, { width: 2, height: 1, channels: 4, depth: 16, data: [1000, 2000, 3000, 0, 4, 5, 6, 65535] });
  });

  it('interlaced (Adam7) images decode to the same samples as their non-interlaced twins', async () => {
    // `stored`: samples per pixel in the file; `max`: the largest sample (or palette index).
    const cases: { colour: PngColour; stored: number; max: number; width: number; height: number; channels: number; depth: 8 | 16; expected: (s: number[]) => number[] }[] = [
      { colour: { type: 'gray', depth: 2 }, stored: 1, max: 3, width: 10, height: 9, channels: 3, depth: 8, expected: (s) => greyAsRgb(s, 2) },
      { colour: { type: 'gray', depth: 16 }, stored: 1, max: 65535, width: 11, height: 7, channels: 3, depth: 16, expected: (s) => greyAsRgb(s, 16) },
      { colour: { type: 'rgb', depth: 8 }, stored: 3, max: 255, width: 9, height: 9, channels: 3, depth: 8, expected: (s) => s },
      { colour: { type: 'rgba', depth: 16 }, stored: 4, max: 65535, width: 17, height: 3, channels: 4, depth: 16, expected: (s) => s },
      { colour: { type: 'palette', palette: PALETTE }, stored: 1, max: 3, width: 8, height: 8, channels: 3, depth: 8, expected: (s) => s.flatMap(colourOf) },
    ];
    for (const { colour, stored, max, width, height, channels, depth, expected } of cases) {
      const samples = samplesFor(width * height * stored, max);
      const interlaced = png(width, height, colour, samples, { interlace: true });
      assert.equal(chunkOf(interlaced, 'IHDR').data[12], 1, 'the file really is interlaced');
      const raw = await decodePng(interlaced, LIMITS);
      assertImage(raw, { width, height, channels, depth, data: expected(samples) });
      const plain = await decodePng(png(width, height, colour, samples), LIMITS);
      assert.deepEqual(Array.from(raw.data), Array.from(plain.data));
    }
  });

  it('a 1×1 image and a 1-pixel-wide column decode', async () => {
    assertImage(await decodePng(png(1, 1, { type: 'rgb', depth: 8 }, [9, 8, 7]), LIMITS), { width: 1, height: 1, channels: 3, depth: 8, data: [9, 8, 7] });
    const column = samplesFor(300, 255);
    assertImage(await decodePng(png(1, 300, { type: 'gray', depth: 8 }, column), LIMITS), { width: 1, height: 300, channels: 3, depth: 8, data: greyAsRgb(column, 8) });
  });

  it('colour-management chunks (iCCP, gAMA) are ignored: samples arrive as stored, as PIL reads them', async () => {
    const samples = samplesFor(4 * 3 * 3, 255);
    // A real Display P3 profile, as sharp embeds it.
    const p3 = await sharp(Buffer.alloc(4 * 4 * 3, 100), { raw: { width: 4, height: 4, channels: 3 } }).withIccProfile('p3').png().toBuffer();
    const iccp = chunkOf(p3, 'iCCP').bytes;
    const gama = pngChunk('gAMA', Buffer.from([0, 0, 0x27, 0x10])); // gamma 0.1: would change every mid-tone
    for (const extra of [[iccp], [gama], [pngChunk('iCCP', Buffer.concat([Buffer.from('bogus\0\0'), deflateSync(Buffer.from('not a profile'))]))]]) {
      const raw = await decodePng(png(4, 3, { type: 'rgb', depth: 8 }, samples, { extra }), LIMITS);
      assert.deepEqual(Array.from(raw.data), samples, extra[0]!.toString('latin1', 4, 8));
    }
    const wide = [1000, 20000, 30000, 40000, 50000, 65535];
    const raw16 = await decodePng(png(2, 1, { type: 'rgb', depth: 16 }, wide, { extra: [iccp] }), LIMITS);
    assertImage(raw16, { width: 2, height: 1, channels: 3, depth: 16, data: wide });
  });
});

describe('decodePng: header checks come before decoding', () => {
  it('an IHDR of 60000×60000 with a bogus tiny IDAT is too_large at once, without allocating its pixels', async () => {
    const bytes = assemble(ihdr(60_000, 60_000, 8, 2), pngChunk('IDAT', deflateSync(Buffer.alloc(10))), IEND);
    const rss = process.memoryUsage().rss;
    const started = performance.now();
    const err = await refused(bytes, 'too_large', { maxPixels: 40_000_000 });
    assert.ok(performance.now() - started < 1000, 'fast');
    assert.ok(process.memoryUsage().rss - rss < 256 * 2 ** 20, 'did not allocate the 10.8 GB image');
    assert.deepEqual([err.width, err.height], [60_000, 60_000], 'the error carries the size, for the API message');
  });

  it('the pixel limit is inclusive: width × height = maxPixels decodes, one more pixel is too_large', async () => {
    const image = png(10, 10, { type: 'gray', depth: 8 }, samplesFor(100, 255));
    assert.equal((await decodePng(image, { maxPixels: 100 })).width, 10);
    await refused(image, 'too_large', { maxPixels: 99 });
  });

  it('large dimensions within the limit but a bogus tiny IDAT: corrupt, fast', async () => {
    const bytes = assemble(ihdr(8000, 5000, 8, 2), pngChunk('IDAT', deflateSync(Buffer.alloc(10))), IEND);
    const started = performance.now();
    await refused(bytes, 'corrupt', { maxPixels: 40_000_000 });
    assert.ok(performance.now() - started < 2000, 'fast');
  });
});

describe('decodePng: broken PNGs are corrupt', () => {
  const good = png(4, 3, { type: 'rgb', depth: 8 }, samplesFor(36, 255));
  const head = chunkOf(good, 'IHDR').bytes;
  const idat = chunkOf(good, 'IDAT');
  it('the intact image decodes (control)', async () => {
    assert.deepEqual(Array.from((await decodePng(good, LIMITS)).data), samplesFor(36, 255));
  });

  const cases: [string, () => Buffer][] = [
    ['truncated IDAT (zlib stream cut short)', () => assemble(head, pngChunk('IDAT', idat.data.subarray(0, idat.data.length - 10)), IEND)],
    ['file truncated in the middle of IDAT', () => good.subarray(0, good.length - 20)],
    ['file truncated in IHDR', () => good.subarray(0, 20)],
    ['bad IHDR CRC', () => assemble(flipLast(head), idat.bytes, IEND)],
    ['bad IDAT CRC', () => assemble(head, flipLast(idat.bytes), IEND)],
    ['bad IDAT zlib (Adler-32) checksum', () => assemble(head, pngChunk('IDAT', flipLast(idat.data)), IEND)],
    ['missing IDAT', () => assemble(head, IEND)],
    ['zero width', () => assemble(ihdr(0, 3, 8, 2), idat.bytes, IEND)],
    ['zero height', () => assemble(ihdr(4, 0, 8, 2), idat.bytes, IEND)],
    ['invalid bit depth for the colour type (RGB at 3 bits)', () => assemble(ihdr(4, 3, 3, 2), idat.bytes, IEND)],
    ['invalid row filter type', () => assemble(head, pngChunk('IDAT', deflateSync(Buffer.alloc(3 * 13, 9))), IEND)],
    ['too little image data (2 of 3 rows)', () => assemble(head, pngChunk('IDAT', deflateSync(Buffer.alloc(2 * 13))), IEND)],
    ['unknown critical chunk', () => png(4, 3, { type: 'rgb', depth: 8 }, samplesFor(36, 255), { extra: [pngChunk('ABCD', Buffer.from('x'))] })],
    ['palette image without PLTE', () => assemble(...chunksOf(png(3, 1, { type: 'palette', palette: new Uint8Array(6) }, [0, 1, 0])).filter((c) => c.type !== 'PLTE').map((c) => c.bytes))],
    ['empty input', () => Buffer.alloc(0)],
    ['the signature alone', () => SIGNATURE],
  ];
  for (const [name, make] of cases) {
    it(name, async () => {
      await refused(make(), 'corrupt');
    });
  }
});

describe('decodePng: IHDR first, chunk types of four letters (PNG spec 5.2, 5.4), on both decoding paths', () => {
  const samples = samplesFor(4 * 3 * 3, 255);
  // The same image twice: plain, it takes the fast path; interlaced, png-fast declines it and sharp decodes it.
  const paths = [
    { path: 'fast path', base: png(4, 3, { type: 'rgb', depth: 8 }, samples) },
    { path: 'sharp', base: png(4, 3, { type: 'rgb', depth: 8 }, samples, { interlace: true }) },
  ];
  const text = pngChunk('tEXt', Buffer.from('Comment\0hello'));
  const zText = pngChunk('zTXt', Buffer.concat([Buffer.from('Comment\0\0'), deflateSync(Buffer.from('hello'))]));
  const iccp = pngChunk('iCCP', Buffer.concat([Buffer.from('icc\0\0'), deflateSync(Buffer.from('not a profile'))]));
  const gama = pngChunk('gAMA', Buffer.from([0, 0, 0xb1, 0x8f]));
  const phys = pngChunk('pHYs', Buffer.from([0, 0, 0x0b, 0x13, 0, 0, 0x0b, 0x13, 1]));
  const privateChunk = pngChunk('prVt', Buffer.from('private'));
  const name = (chunk: Buffer) => JSON.stringify(chunk.toString('latin1', 4, 8));

  it('control: each image decodes on the path it is meant for', async () => {
    for (const { path, base } of paths) {
      const taken = decodePlainPng(inspectPng(base, LIMITS).png) ? 'fast path' : 'sharp';
      assert.equal(taken, path);
      assertImage(await decodePng(base, LIMITS), { width: 4, height: 3, channels: 3, depth: 8, data: samples });
    }
  });

  it('a chunk before IHDR is corrupt, whatever it is: ancillary (dropped before decoding), tRNS, or critical', async () => {
    const before = [text, zText, iccp, gama, phys, privateChunk, pngChunk('tRNS', Buffer.from([0, 1, 0, 2, 0, 3])), pngChunk('PLTE', Buffer.alloc(6)), IEND];
    for (const { path, base } of paths) {
      for (const chunk of [...before, chunkOf(base, 'IDAT').bytes]) {
        const err = await refused(insertChunk(base, 0, chunk), 'corrupt');
        assert.match(err.message, /does not start with an IHDR/, `${name(chunk)} before IHDR, ${path}`);
      }
    }
  });

  it('a chunk whose type is not four ASCII letters is corrupt, though its case bit says critical or ancillary', async () => {
    // 0x00 0x01 0x02 0x03: bit 5 of the first byte is 0, so "critical" by the case rule alone.
    for (const { path, base } of paths) {
      for (const type of ['\x00\x01\x02\x03', 'a1cd', 'AB D', '[BCD', 'ab\xe9d']) {
        for (const index of [1, 2]) { // after IHDR; after IDAT
          const err = await refused(insertChunk(base, index, pngChunk(type, Buffer.from('x'))), 'corrupt');
          assert.match(err.message, /invalid type/, `${JSON.stringify(type)} at ${index}, ${path}`);
        }
      }
    }
  });

  it('ancillary chunks after IHDR are still dropped: the image decodes exactly as without them, on either path', async () => {
    const ancillary = [
      text, zText, iccp, gama, phys, privateChunk,
      pngChunk('iTXt', Buffer.from('Comment\0\0\0\0\0hello')),
      pngChunk('sRGB', Buffer.from([0])),
      pngChunk('tIME', Buffer.from([0x07, 0xe8, 1, 2, 3, 4, 5])),
      pngChunk('bKGD', Buffer.from([0, 1, 0, 2, 0, 3])),
    ];
    for (const { path, base } of paths) {
      for (const chunk of ancillary) {
        for (const index of [1, 2]) { // after IHDR; after IDAT
          const bytes = insertChunk(base, index, chunk);
          assert.deepEqual(Buffer.from(inspectPng(bytes, LIMITS).png), base, `${name(chunk)} at ${index}, ${path}: dropped`);
          assertImage(await decodePng(bytes, LIMITS), { width: 4, height: 3, channels: 3, depth: 8, data: samples });
        }
      }
    }
  });
});

describe('decodePng: other formats never reach a decoder', () => {
  const rgb = Buffer.alloc(16 * 16 * 3, 100);
  for (const format of ['jpeg', 'gif', 'webp', 'tiff'] as const) {
    it(`a ${format.toUpperCase()} made with sharp is refused (corrupt) though plain sharp decodes it; with a PNG signature in front too`, async () => {
      const bytes = await sharp(rgb, { raw: { width: 16, height: 16, channels: 3 } }).toFormat(format).toBuffer();
      const plain = await decodeWithPlainSharp(bytes);
      assert.deepEqual([plain.format, plain.width, plain.height], [format, 16, 16], 'sharp as shipped decodes it');
      await refused(bytes, 'corrupt');
      // Besides the chunk walk, which refuses it first, sharp itself is blocked in this process.
      await assert.rejects(sharp(bytes).metadata(), /unsupported image format/, 'blocked before any loader other than PNG runs');
      await refused(Buffer.concat([SIGNATURE, bytes]), 'corrupt');
    });
  }
});

describe('decodePng: odd but well-formed files (the policy is in each test name)', () => {
  const samples = samplesFor(4 * 3 * 3, 255);
  const base = png(4, 3, { type: 'rgb', depth: 8 }, samples);
  const zeros = Buffer.alloc(64 * 2 ** 20); // inflates to > 60 MiB

  it('a zTXt, iTXt or iCCP chunk inflating to 64 MiB is dropped: the image decodes, fast, with the chunk ignored', async () => {
    const bombs = {
      zTXt: Buffer.concat([Buffer.from('Comment\0\0', 'latin1'), deflateSync(zeros, { level: 9 })]),
      iTXt: Buffer.concat([Buffer.from('Comment\0\x01\x00\0\0', 'latin1'), deflateSync(zeros, { level: 9 })]),
      iCCP: Buffer.concat([Buffer.from('ICC\0\0', 'latin1'), deflateSync(zeros, { level: 9 })]),
    };
    for (const [type, data] of Object.entries(bombs)) {
      const bytes = png(4, 3, { type: 'rgb', depth: 8 }, samples, { extra: [pngChunk(type, data)] });
      assert.ok(bytes.length < 100_000, 'a small upload');
      const started = performance.now();
      const raw = await decodePng(bytes, LIMITS);
      assert.ok(performance.now() - started < 2000, `${type}: fast`);
      assertImage(raw, { width: 4, height: 3, channels: 3, depth: 8, data: samples });
    }
    // The text really is dropped (a small one is read): libvips refuses the oversized chunk, not the image.
    const small = png(4, 3, { type: 'rgb', depth: 8 }, samples, { extra: [pngChunk('zTXt', Buffer.concat([Buffer.from('Comment\0\0', 'latin1'), deflateSync(Buffer.from('hi'))]))] });
    assert.deepEqual((await sharp(small).metadata()).comments, [{ keyword: 'Comment', text: 'hi' }]);
    const bomb = png(4, 3, { type: 'rgb', depth: 8 }, samples, { extra: [pngChunk('zTXt', bombs.zTXt)] });
    assert.equal((await sharp(bomb).metadata()).comments, undefined);
  });

  it('an APNG decodes to its default image (IDAT); animation frames (fdAT) are ignored, even when the default image is not a frame', async () => {
    const actl = (frames: number) => pngChunk('acTL', Buffer.from([0, 0, 0, frames, 0, 0, 0, 0]));
    const fctl = (sequence: number) => {
      const data = Buffer.alloc(26);
      data.writeUInt32BE(sequence, 0);
      data.writeUInt32BE(4, 4); // width
      data.writeUInt32BE(3, 8); // height
      data.writeUInt16BE(1, 20); // delay 1/10 s
      data.writeUInt16BE(10, 22);
      return pngChunk('fcTL', data);
    };
    // The other frame is white, so using it would show.
    const fdat = (sequence: number) => {
      const rows = Buffer.alloc(3 * 13, 255);
      for (let y = 0; y < 3; y++) rows[y * 13] = 0; // filter byte
      const data = Buffer.concat([Buffer.alloc(4), deflateSync(rows)]);
      data.writeUInt32BE(sequence, 0);
      return pngChunk('fdAT', data);
    };
    const { bytes: head } = chunkOf(base, 'IHDR');
    const { bytes: idat } = chunkOf(base, 'IDAT');
    const animated = assemble(head, actl(2), fctl(0), idat, fctl(1), fdat(2), IEND);
    const hiddenDefault = assemble(head, actl(1), idat, fctl(0), fdat(1), IEND);
    for (const bytes of [animated, hiddenDefault]) {
      assertImage(await decodePng(bytes, LIMITS), { width: 4, height: 3, channels: 3, depth: 8, data: samples });
    }
  });

  it('bytes after IEND are ignored, whatever they are (garbage, a second PNG, 1 MiB)', async () => {
    const other = png(2, 2, { type: 'rgb', depth: 8 }, samplesFor(12, 255).reverse());
    for (const trailer of [Buffer.from('garbage after IEND'), other, Buffer.alloc(2 ** 20, 0xab)]) {
      assertImage(await decodePng(Buffer.concat([base, trailer]), LIMITS), { width: 4, height: 3, channels: 3, depth: 8, data: samples });
    }
  });

  it('a missing IEND is tolerated: the image is complete once IDAT ends', async () => {
    const { bytes: head } = chunkOf(base, 'IHDR');
    const { bytes: idat } = chunkOf(base, 'IDAT');
    assertImage(await decodePng(assemble(head, idat), LIMITS), { width: 4, height: 3, channels: 3, depth: 8, data: samples });
  });

  it('extra image data after the last row is ignored (libpng\'s benign "too much image data")', async () => {
    const { bytes: head } = chunkOf(base, 'IHDR');
    // Five rows (filter byte + 12 samples) for a three-row image: the first row 77s, the rest 0s.
    const rows = Buffer.alloc(5 * 13, 0).fill(77, 1, 13);
    const decoded = await decodePng(assemble(head, pngChunk('IDAT', deflateSync(rows)), IEND), LIMITS);
    assertImage(decoded, { width: 4, height: 3, channels: 3, depth: 8, data: [...new Array<number>(12).fill(77), ...new Array<number>(24).fill(0)] });
  });

  it('ancillary chunks with a bad CRC (tEXt, IEND) are skipped, not fatal', async () => {
    const withText = png(4, 3, { type: 'rgb', depth: 8 }, samples, { extra: [pngChunk('tEXt', Buffer.from('Comment\0hello'))] });
    const badText = assemble(...chunksOf(withText).map((c) => (c.type === 'tEXt' ? flipLast(c.bytes) : c.bytes)));
    assertImage(await decodePng(badText, LIMITS), { width: 4, height: 3, channels: 3, depth: 8, data: samples });
    const badEnd = flipLast(base);
    assertImage(await decodePng(badEnd, LIMITS), { width: 4, height: 3, channels: 3, depth: 8, data: samples });
  });

  it('a palette index past the end of PLTE decodes as black (libpng\'s choice), not an error', async () => {
    const raw = await decodePng(png(3, 1, { type: 'palette', palette: new Uint8Array([1, 2, 3, 4, 5, 6]) }, [0, 1, 5]), LIMITS);
    assertImage(raw, { width: 3, height: 1, channels: 3, depth: 8, data: [1, 2, 3, 4, 5, 6, 0, 0, 0] });
  });
});
