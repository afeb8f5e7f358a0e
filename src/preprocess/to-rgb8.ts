import type { RawImage, Rgb8Image } from './types.js';

/**
 * Converts a decoded image to 8-bit RGB: 16-bit samples keep their high byte (`v >> 8`),
 * grey is replicated into R, G and B, alpha is dropped without compositing.
 * 8-bit RGB input is returned without copying (the result shares `raw.data`).
 * @throws {RangeError} on invalid sizes, channel count or depth, or a data length that does not match them.
 * @throws {TypeError} when the array type does not match `depth`.
 */
export function toRgb8(raw: RawImage): Rgb8Image {
  const { data, width, height, channels, depth } = raw;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`invalid image size ${width}x${height}`);
  }
  // Widened: the checks are for callers that bypass the types.
  const ch: number = channels;
  const bits: number = depth;
  if (ch !== 1 && ch !== 2 && ch !== 3 && ch !== 4) throw new RangeError(`invalid channel count ${ch}`);
  if (bits !== 8 && bits !== 16) throw new RangeError(`invalid bit depth ${bits}`);
  if (!(data instanceof (bits === 16 ? Uint16Array : Uint8Array))) {
    throw new TypeError(`depth ${bits} needs a ${bits === 16 ? 'Uint16Array' : 'Uint8Array'}`);
  }
  const pixels = width * height;
  if (data.length !== pixels * channels) {
    throw new RangeError(
      `image data has ${data.length} samples, expected ${pixels * channels} for ${width}x${height}x${channels}`,
    );
  }
  if (depth === 8 && channels === 3) return { data: data as Uint8Array, width, height };

  const out = new Uint8Array(pixels * 3);
  const shift = depth === 16 ? 8 : 0;
  if (channels <= 2) {
    for (let i = 0, s = 0, o = 0; i < pixels; i++, s += channels, o += 3) {
      const v = data[s]! >> shift;
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = v;
    }
  } else {
    for (let i = 0, s = 0, o = 0; i < pixels; i++, s += channels, o += 3) {
      out[o] = data[s]! >> shift;
      out[o + 1] = data[s + 1]! >> shift;
      out[o + 2] = data[s + 2]! >> shift;
    }
  }
  return { data: out, width, height };
}
