import assert from 'node:assert/strict';
import { pngChunk } from '../../src/synth/png-encode.js';

/** PNG surgery for tests: chunks, IHDR, corruption. */

export const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
export const IEND = pngChunk('IEND', new Uint8Array(0));

export interface Chunk {
  type: string;
  data: Buffer;
  /** The whole chunk: length, type, data, CRC. */
  bytes: Buffer;
}

/** The chunks of a well-formed PNG (stops at the first chunk that runs past the end). */
export function chunksOf(png: Buffer): Chunk[] {
  const out: Chunk[] = [];
  for (let o = SIGNATURE.length; o + 12 <= png.length;) {
    const length = png.readUInt32BE(o);
    if (o + 12 + length > png.length) break;
    out.push({ type: png.toString('latin1', o + 4, o + 8), data: png.subarray(o + 8, o + 8 + length), bytes: png.subarray(o, o + 12 + length) });
    o += 12 + length;
  }
  return out;
}

export const chunkOf = (png: Buffer, type: string): Chunk => {
  const found = chunksOf(png).find((c) => c.type === type);
  assert.ok(found, `no ${type} chunk`);
  return found;
};

export const assemble = (...chunks: Buffer[]): Buffer => Buffer.concat([SIGNATURE, ...chunks]);

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

/** The same PNG with `chunk` inserted before its chunk number `index` (0: before IHDR); bytes after the last chunk are lost. */
export function insertChunk(png: Buffer, index: number, chunk: Buffer): Buffer {
  const chunks = chunksOf(png).map((c) => c.bytes);
  return assemble(...chunks.slice(0, index), chunk, ...chunks.slice(index));
}
