import { sampleLength, writeTensor } from './normalize.js';
import { resizeBilinear } from './resize-bilinear.js';
import { toRgb8 } from './to-rgb8.js';
import type { RawImage, TensorSpec } from './types.js';

/**
 * The serving side of docs/preprocessing.md after decoding: to 8-bit RGB, Pillow-exact
 * bilinear resize to the model's input size, normalize into the model's layout.
 * Writes into `out` at element `offset` (for batching) or into a fresh single-sample array.
 * @returns `out`, or the new array.
 * @throws {RangeError} on inconsistent image or spec sizes, or when `out` is too short.
 * @throws {TypeError} when the sample array type does not match the image depth.
 */
export function preprocess(raw: RawImage, spec: TensorSpec, out?: Float32Array, offset = 0): Float32Array {
  const target = out ?? new Float32Array(sampleLength(spec));
  const rgb = resizeBilinear(toRgb8(raw), spec.width, spec.height);
  writeTensor(rgb, spec, target, offset);
  return target;
}
