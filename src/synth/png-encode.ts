import { deflateSync } from 'node:zlib';

/**
 * A small, dependency-free PNG encoder that can write every colour type and bit depth
 * the service must accept, so the synthetic dataset and the tests control exactly which
 * PNG variant they produce (sharp cannot write palette+tRNS or 16-bit grey on demand).
 */
export type PngColour =
  | { type: 'gray'; depth: 1 | 2 | 4 | 8 | 16 }
  | { type: 'gray-alpha'; depth: 8 | 16 }
  | { type: 'rgb'; depth: 8 | 16 }
  | { type: 'rgba'; depth: 8 | 16 }
  | { type: 'palette'; palette: Uint8Array; alpha?: Uint8Array };

export interface PngImage {
  width: number;
  height: number;
  colour: PngColour;
  /** Samples row-major: one per channel per pixel (palette: one index per pixel). */
  samples: ArrayLike<number>;
  interlace?: boolean;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function colourTypeCode(colour: PngColour): number {
  switch (colour.type) {
    case 'gray': return 0;
    case 'rgb': return 2;
    case 'palette': return 3;
    case 'gray-alpha': return 4;
    case 'rgba': return 6;
  }
}

function channels(colour: PngColour): number {
  switch (colour.type) {
    case 'gray':
    case 'palette': return 1;
    case 'gray-alpha': return 2;
    case 'rgb': return 3;
    case 'rgba': return 4;
  }
}

function bitDepth(colour: PngColour): number {
  return colour.type === 'palette' ? 8 : colour.depth;
}

/** Packs one scanline (without the filter byte) at the image's bit depth. */
function packRow(samples: ArrayLike<number>, start: number, count: number, depth: number): Buffer {
  if (depth === 16) {
    const row = Buffer.alloc(count * 2);
    for (let i = 0; i < count; i++) row.writeUInt16BE(samples[start + i]!, i * 2);
    return row;
  }
  if (depth === 8) {
    const row = Buffer.alloc(count);
    for (let i = 0; i < count; i++) row[i] = samples[start + i]!;
    return row;
  }
  const perByte = 8 / depth;
  const row = Buffer.alloc(Math.ceil(count / perByte));
  for (let i = 0; i < count; i++) {
    const shift = 8 - depth * ((i % perByte) + 1);
    row[Math.floor(i / perByte)]! |= (samples[start + i]! & ((1 << depth) - 1)) << shift;
  }
  return row;
}

// Adam7 passes: x0, y0, dx, dy.
const ADAM7 = [
  [0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4],
  [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2],
] as const;

function rawScanlines(image: PngImage): Buffer {
  const ch = channels(image.colour);
  const depth = bitDepth(image.colour);
  const rows: Buffer[] = [];
  const filterByte = Buffer.from([0]);
  const passes = image.interlace ? ADAM7 : [[0, 0, 1, 1] as const];
  for (const [x0, y0, dx, dy] of passes) {
    const passWidth = Math.ceil((image.width - x0) / dx);
    if (passWidth <= 0) continue;
    for (let y = y0; y < image.height; y += dy) {
      const passSamples: number[] = [];
      for (let x = x0; x < image.width; x += dx) {
        for (let c = 0; c < ch; c++) passSamples.push(image.samples[(y * image.width + x) * ch + c]!);
      }
      rows.push(filterByte, packRow(passSamples, 0, passSamples.length, depth));
    }
  }
  return Buffer.concat(rows);
}

export function encodePng(image: PngImage, extraChunks: Buffer[] = []): Buffer {
  const { width, height, colour } = image;
  const expected = width * height * channels(colour);
  if (image.samples.length !== expected) {
    throw new RangeError(`expected ${expected} samples for ${width}x${height} ${colour.type}, got ${image.samples.length}`);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth(colour);
  ihdr[9] = colourTypeCode(colour);
  ihdr[12] = image.interlace ? 1 : 0;
  const chunks = [pngChunk('IHDR', ihdr)];
  if (colour.type === 'palette') {
    chunks.push(pngChunk('PLTE', colour.palette));
    if (colour.alpha) chunks.push(pngChunk('tRNS', colour.alpha));
  }
  chunks.push(...extraChunks);
  chunks.push(pngChunk('IDAT', deflateSync(rawScanlines(image), { level: 6 })));
  chunks.push(pngChunk('IEND', new Uint8Array(0)));
  return Buffer.concat([SIGNATURE, ...chunks]);
}
