import { pngChunk } from '../../src/synth/png-encode.js';

/** A copy with its last byte inverted: breaks a chunk's CRC, or a zlib stream's Adler-32. */
export function flipLast(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  copy[copy.length - 1]! ^= 0xff;
  return copy;
}

/** An IHDR chunk with any fields, valid or not. */
export function ihdr(width: number, height: number, bitDepth = 8, colourType = 2, interlace = 0): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data[8] = bitDepth;
  data[9] = colourType;
  data[12] = interlace;
  return pngChunk('IHDR', data);
}
