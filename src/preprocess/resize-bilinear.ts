import { bilinearCoefficients, PRECISION_BITS } from './bilinear-coeffs.js';
import type { AxisCoefficients } from './bilinear-coeffs.js';
import type { Rgb8Image } from './types.js';

const HALF = 1 << (PRECISION_BITS - 1);
const UNIT = 1 << PRECISION_BITS;

/**
 * Resizes to `width` x `height` exactly as Pillow's `Image.resize(size, Image.BILINEAR)` does
 * on an 8-bit RGB image (`ImagingResample`, libImaging/Resample.c): a separable, antialiased
 * triangle filter in 22-bit fixed point, horizontal pass first, each pass rounded and clipped
 * to 8 bits. A pass whose axis keeps its size is skipped, as in Pillow.
 * Returns `img` itself when the size is unchanged.
 * @throws {RangeError} on non-positive or non-integer sizes, or a data length that does not match them.
 */
export function resizeBilinear(img: Rgb8Image, width: number, height: number): Rgb8Image {
  assertSize(img.width, img.height, 'source');
  assertSize(width, height, 'target');
  if (img.data.length !== img.width * img.height * 3) {
    throw new RangeError(`RGB data has ${img.data.length} bytes, expected ${img.width * img.height * 3}`);
  }
  if (width === img.width && height === img.height) return img;

  const vertical = height !== img.height ? bilinearCoefficients(img.height, height) : undefined;
  let src = img.data;
  let firstRow = 0;
  if (width !== img.width) {
    let lastRow = img.height;
    if (vertical) {
      // Only the rows the vertical pass reads; Pillow shifts its bounds the same way.
      firstRow = vertical.start[0]!;
      lastRow = vertical.start[height - 1]! + vertical.count[height - 1]!;
    }
    src = horizontalPass(img.data, img.width, bilinearCoefficients(img.width, width), firstRow, lastRow);
  }
  if (!vertical) return { data: src, width, height };
  return { data: verticalPass(src, width, vertical, firstRow), width, height };
}

function assertSize(width: number, height: number, what: string): void {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`invalid ${what} size ${width}x${height}`);
  }
}

// Pillow's clip8: an arithmetic shift (floor, also for negative sums) and a clamp to 0..255.
function clip8(ss: number): number {
  const v = Math.floor(ss / UNIT);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function horizontalPass(
  src: Uint8Array,
  inWidth: number,
  c: AxisCoefficients,
  firstRow: number,
  lastRow: number,
): Uint8Array {
  const outWidth = c.start.length;
  const { ksize, start, count, weights } = c;
  const out = new Uint8Array(outWidth * (lastRow - firstRow) * 3);
  let o = 0;
  for (let y = firstRow; y < lastRow; y++) {
    const row = y * inWidth * 3;
    for (let xx = 0; xx < outWidth; xx++) {
      const n = count[xx]!;
      const kb = xx * ksize;
      let p = row + start[xx]! * 3;
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      for (let x = 0; x < n; x++, p += 3) {
        const w = weights[kb + x]!;
        s0 += src[p]! * w;
        s1 += src[p + 1]! * w;
        s2 += src[p + 2]! * w;
      }
      out[o++] = clip8(s0);
      out[o++] = clip8(s1);
      out[o++] = clip8(s2);
    }
  }
  return out;
}

function verticalPass(src: Uint8Array, width: number, c: AxisCoefficients, rowOffset: number): Uint8Array {
  const outHeight = c.start.length;
  const { ksize, start, count, weights } = c;
  const stride = width * 3;
  const out = new Uint8Array(stride * outHeight);
  let o = 0;
  for (let yy = 0; yy < outHeight; yy++) {
    const n = count[yy]!;
    const kb = yy * ksize;
    const top = (start[yy]! - rowOffset) * stride;
    for (let i = 0; i < stride; i++) {
      let s = HALF;
      for (let y = 0, p = top + i; y < n; y++, p += stride) s += src[p]! * weights[kb + y]!;
      out[o++] = clip8(s);
    }
  }
  return out;
}
