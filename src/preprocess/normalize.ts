import type { Rgb8Image, TensorSpec } from './types.js';

/** Number of float32 elements one image occupies in a tensor of this spec (3 x height x width). */
export function sampleLength(spec: TensorSpec): number {
  return 3 * spec.width * spec.height;
}

/**
 * Writes one image into `out` at element `offset` as `(v / 255 - mean[c]) / std[c]`, in the
 * spec's layout (NCHW: three planes; NHWC: interleaved). Each step is rounded to float32 as
 * torchvision's `ToTensor` + `Normalize` compute it. For sample `i` of a batch pass
 * `offset = i * sampleLength(spec)`.
 * @throws {RangeError} when the image is not spec-sized, the spec is invalid, or `out` is too short.
 */
export function writeTensor(img: Rgb8Image, spec: TensorSpec, out: Float32Array, offset = 0): void {
  const { width, height } = spec;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`invalid tensor size ${width}x${height}`);
  }
  if (img.width !== width || img.height !== height) {
    throw new RangeError(`image is ${img.width}x${img.height}, tensor needs ${width}x${height}`);
  }
  const pixels = width * height;
  if (img.data.length !== pixels * 3) {
    throw new RangeError(`RGB data has ${img.data.length} bytes, expected ${pixels * 3}`);
  }
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + pixels * 3 > out.length) {
    throw new RangeError(`cannot write ${pixels * 3} elements at offset ${offset} into ${out.length}`);
  }
  const lut = lookupTable(spec);
  const src = img.data;
  if (spec.layout === 'NHWC') {
    for (let i = 0, o = offset; i < pixels * 3; i += 3, o += 3) {
      out[o] = lut[src[i]!]!;
      out[o + 1] = lut[256 + src[i + 1]!]!;
      out[o + 2] = lut[512 + src[i + 2]!]!;
    }
    return;
  }
  const g = offset + pixels;
  const b = g + pixels;
  for (let p = 0, i = 0; p < pixels; p++, i += 3) {
    out[offset + p] = lut[src[i]!]!;
    out[g + p] = lut[256 + src[i + 1]!]!;
    out[b + p] = lut[512 + src[i + 2]!]!;
  }
}

// 3 x 256 normalized values; cheaper than arithmetic per sample even when rebuilt per call.
function lookupTable(spec: TensorSpec): Float32Array {
  const lut = new Float32Array(768);
  for (let c = 0; c < 3; c++) {
    const mean = Math.fround(spec.mean[c]!);
    const std = Math.fround(spec.std[c]!);
    if (!Number.isFinite(mean) || !Number.isFinite(std) || std === 0) {
      throw new RangeError(`invalid normalization for channel ${c}: mean ${spec.mean[c]}, std ${spec.std[c]}`);
    }
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = Math.fround(Math.fround(v / 255) - mean) / std;
  }
  return lut;
}
