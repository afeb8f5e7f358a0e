import { crc32, inflateSync } from 'node:zlib';
import type { RawImage } from '../preprocess/types.js';
import { chunkSpans, readPngHeader } from './png-chunks.js';

/*
 * A fast path for the PNGs that sensors send: non-interlaced, 8-bit grey, grey + alpha, RGB, RGBA
 * or palette, or 16-bit grey, grey + alpha, RGB or RGBA, with no tRNS colour key. It decodes in
 * the calling thread (zlib's inflate, then the row filters undone here) for a fraction of a
 * sharp call's CPU, and yields exactly the RawImage that sharp yields for the same file (the
 * contract of decode-png.ts; test/image/png-fast.test.ts holds the two to each other).
 *
 * It never judges a file. Any other variant, and every anomaly (a CRC mismatch, a zlib error,
 * too much or too little image data, an unknown row filter, a palette index past the palette,
 * chunks out of order), returns undefined, and the caller hands the file to sharp, whose verdict,
 * pixels or refusal, stands.
 */

/** Bytes per pixel of the plain variants, by `colour type/bit depth`; absent: not plain. */
const BYTES_PER_PIXEL: Readonly<Record<string, number>> = {
  '0/8': 1, // grey
  '0/16': 2,
  '2/8': 3, // RGB
  '2/16': 6,
  '3/8': 1, // palette index
  '4/8': 2, // grey + alpha
  '4/16': 4,
  '6/8': 4, // RGBA
  '6/16': 8,
};

interface Chunks {
  palette?: Uint8Array;
  alpha?: Uint8Array;
  idat: Uint8Array[];
}

/** The chunks after IHDR, if they are exactly [PLTE] [tRNS] IDAT… IEND, ending the data, with valid CRCs. */
function readChunks(png: Uint8Array, colourType: number): Chunks | undefined {
  const walked = chunkSpans(png);
  if (!walked || walked.trailing) return undefined;
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: Chunks = { idat: [] };
  for (const [index, { type, start, end }] of walked.spans.entries()) {
    if (crc32(png.subarray(start + 4, end - 4)) !== view.getUint32(end - 4)) return undefined;
    if (index === 0) continue; // IHDR, read by the caller
    const data = png.subarray(start + 8, end - 4);
    const afterIdat = out.idat.length > 0;
    if (type === 'IDAT') {
      out.idat.push(data);
    } else if (type === 'IEND') {
      return afterIdat && data.length === 0 ? out : undefined;
    } else if (type === 'PLTE' && !afterIdat && !out.palette && !out.alpha && colourType === 3) {
      if (data.length === 0 || data.length % 3 !== 0 || data.length > 768) return undefined;
      out.palette = data;
    } else if (type === 'tRNS' && !afterIdat && !out.alpha && out.palette) {
      if (data.length === 0 || data.length > out.palette.length / 3) return undefined;
      out.alpha = data;
    } else {
      return undefined;
    }
  }
  return undefined; // no IEND
}

/**
 * Undoes the PNG row filters (None, Sub, Up, Average, Paeth) in place: `data` holds `height` rows
 * of a filter byte and `stride` bytes; row y's samples end up at y × stride. Safe because a row's
 * output starts before its input and is written in order, so nothing is overwritten before it is
 * read. False on an unknown filter type.
 */
function unfilter(data: Uint8Array, height: number, stride: number, bpp: number): boolean {
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    const src = row + y + 1;
    const filter = data[src - 1]!;
    const prev = row - stride; // the row above; y = 0 has none (read as zeros)
    switch (filter) {
      case 0:
        data.copyWithin(row, src, src + stride);
        break;
      case 1:
        for (let i = 0; i < stride; i++) data[row + i] = data[src + i]! + (i >= bpp ? data[row + i - bpp]! : 0);
        break;
      case 2:
        if (y === 0) data.copyWithin(row, src, src + stride);
        else for (let i = 0; i < stride; i++) data[row + i] = data[src + i]! + data[prev + i]!;
        break;
      case 3:
        for (let i = 0; i < stride; i++) {
          const left = i >= bpp ? data[row + i - bpp]! : 0;
          const up = y > 0 ? data[prev + i]! : 0;
          data[row + i] = data[src + i]! + ((left + up) >> 1);
        }
        break;
      case 4:
        for (let i = 0; i < stride; i++) {
          const a = i >= bpp ? data[row + i - bpp]! : 0;
          const b = y > 0 ? data[prev + i]! : 0;
          const c = i >= bpp && y > 0 ? data[prev + i - bpp]! : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          data[row + i] = data[src + i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Big-endian 16-bit samples as a Uint16Array: in place when aligned (byte-swapped on little-endian machines), else copied. */
function samples16(bytes: Uint8Array): Uint16Array {
  const n = bytes.length >> 1;
  if (bytes.byteOffset % 2 !== 0) {
    const out = new Uint16Array(n);
    for (let i = 0; i < n; i++) out[i] = (bytes[2 * i]! << 8) | bytes[2 * i + 1]!;
    return out;
  }
  if (LITTLE_ENDIAN) {
    for (let i = 0; i < bytes.length; i += 2) {
      const hi = bytes[i]!;
      bytes[i] = bytes[i + 1]!;
      bytes[i + 1] = hi;
    }
  }
  return new Uint16Array(bytes.buffer, bytes.byteOffset, n);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Grey (+ alpha) samples spread to RGB (+ alpha), as sharp hands grey over. */
function greyToRgb<T extends Uint8Array | Uint16Array>(grey: T, pixels: number, withAlpha: boolean, make: (n: number) => T): T {
  const outChannels = withAlpha ? 4 : 3;
  const out = make(pixels * outChannels);
  const step = withAlpha ? 2 : 1;
  for (let i = 0, s = 0, o = 0; i < pixels; i++, s += step, o += outChannels) {
    const v = grey[s]!;
    out[o] = v;
    out[o + 1] = v;
    out[o + 2] = v;
    if (withAlpha) out[o + 3] = grey[s + 1]!;
  }
  return out;
}

/** Palette indices to RGB, or RGBA with the tRNS alphas (entries past its end are opaque); undefined on an index past the palette. */
function expandPalette(indices: Uint8Array, palette: Uint8Array, alpha: Uint8Array | undefined): Uint8Array | undefined {
  const entries = palette.length / 3;
  const channels = alpha ? 4 : 3;
  const out = new Uint8Array(indices.length * channels);
  for (let i = 0, o = 0; i < indices.length; i++, o += channels) {
    const k = indices[i]!;
    if (k >= entries) return undefined;
    out[o] = palette[k * 3]!;
    out[o + 1] = palette[k * 3 + 1]!;
    out[o + 2] = palette[k * 3 + 2]!;
    if (alpha) out[o + 3] = k < alpha.length ? alpha[k]! : 255;
  }
  return out;
}

/**
 * Decodes `png` (signature and chunk structure already checked, ancillary chunks other than tRNS
 * already dropped: decode-png.ts's inspectPng) when it is a plain variant; undefined otherwise.
 */
export function decodePlainPng(png: Uint8Array): RawImage | undefined {
  const header = readPngHeader(png);
  if (!header || png[26] !== 0 || png[27] !== 0 || png[28] !== 0) return undefined; // compression, filter, interlace
  const { width, height, bitDepth, colourType } = header;
  const bpp = BYTES_PER_PIXEL[`${colourType}/${bitDepth}`];
  if (!bpp || width < 1 || height < 1) return undefined;
  const chunks = readChunks(png, colourType);
  if (!chunks || (colourType === 3) !== (chunks.palette !== undefined)) return undefined;
  const stride = width * bpp;
  const expected = height * (stride + 1);
  if (!Number.isSafeInteger(expected) || expected > 0x7fffffff) return undefined;
  let data: Uint8Array;
  try {
    const idat = chunks.idat.length === 1 ? chunks.idat[0]! : Buffer.concat(chunks.idat);
    // One output chunk of exactly the image's size: no concatenation of 16 kB pieces afterwards.
    const inflated = inflateSync(idat, { maxOutputLength: expected, chunkSize: Math.max(64, expected), info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    // All of the image data, and nothing after the zlib stream.
    if (inflated.buffer.length !== expected || inflated.engine.bytesWritten !== idat.length) return undefined;
    data = new Uint8Array(inflated.buffer.buffer, inflated.buffer.byteOffset, inflated.buffer.length);
  } catch {
    return undefined;
  }
  if (!unfilter(data, height, stride, bpp)) return undefined;
  const samples = data.subarray(0, height * stride);
  const pixels = width * height;
  if (bitDepth === 16) {
    const wide = samples16(samples);
    if (colourType === 0 || colourType === 4) {
      const rgb = greyToRgb(wide, pixels, colourType === 4, (n) => new Uint16Array(n));
      return { data: rgb, width, height, channels: colourType === 4 ? 4 : 3, depth: 16 };
    }
    return { data: wide, width, height, channels: colourType === 6 ? 4 : 3, depth: 16 };
  }
  switch (colourType) {
    case 0:
    case 4:
      return { data: greyToRgb(samples, pixels, colourType === 4, (n) => new Uint8Array(n)), width, height, channels: colourType === 4 ? 4 : 3, depth: 8 };
    case 3: {
      const rgb = expandPalette(samples, chunks.palette!, chunks.alpha);
      return rgb && { data: rgb, width, height, channels: chunks.alpha ? 4 : 3, depth: 8 };
    }
    default:
      return { data: samples, width, height, channels: colourType === 6 ? 4 : 3, depth: 8 };
  }
}
