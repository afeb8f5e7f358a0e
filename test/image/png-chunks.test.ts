import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { decodePng } from '../../src/image/decode-png.js';
import { chunkSpans, keepEssentialChunks, readPngHeader } from '../../src/image/png-chunks.js';
import { pngChunk } from '../../src/synth/png-encode.js';
import { patternPng } from '../helpers/images.js';
import { insertChunk } from '../helpers/png-bytes.js';

const IEND_LENGTH = 12;

/** Inserts chunks just before IEND. */
function withChunks(png: Buffer, chunks: Buffer[]): Buffer {
  return Buffer.concat([png.subarray(0, png.length - IEND_LENGTH), ...chunks, png.subarray(png.length - IEND_LENGTH)]);
}

function chunkTypes(png: Uint8Array): string[] {
  const types: string[] = [];
  for (let pos = 8; pos + 12 <= png.length;) {
    const length = Buffer.from(png.buffer, png.byteOffset + pos, 4).readUInt32BE(0);
    types.push(Buffer.from(png.buffer, png.byteOffset + pos + 4, 4).toString('latin1'));
    pos += 12 + length;
  }
  return types;
}

describe('keepEssentialChunks', () => {
  const clean = patternPng(40, 30, 3, { type: 'palette', palette: new Uint8Array([0, 0, 0, 255, 255, 255]), alpha: new Uint8Array([7]) });

  it('returns a clean PNG as it is, without copying', () => {
    assert.equal(keepEssentialChunks(clean), clean);
  });

  it('drops text, ICC, gamma, APNG and private chunks, and anything after IEND; keeps tRNS', () => {
    const bomb = deflateSync(Buffer.alloc(8 * 1024 * 1024));
    const noisy = withChunks(clean, [
      pngChunk('zTXt', Buffer.concat([Buffer.from('Comment\0\0'), bomb])),
      pngChunk('iTXt', Buffer.concat([Buffer.from('XML:com.adobe.xmp\0\x01\0\0\0'), bomb])),
      pngChunk('iCCP', Buffer.concat([Buffer.from('icc\0\0'), bomb])),
      pngChunk('tEXt', Buffer.from('Author\0me')),
      pngChunk('gAMA', Buffer.from([0, 0, 0xb1, 0x8f])),
      pngChunk('acTL', Buffer.from([0, 0, 0, 1, 0, 0, 0, 0])),
      pngChunk('prVt', Buffer.from('private')),
    ]);
    const trailing = Buffer.concat([noisy, Buffer.from('PK\x03\x04 a zip after the image')]);
    const kept = keepEssentialChunks(trailing)!;
    assert.deepEqual(chunkTypes(kept), ['IHDR', 'PLTE', 'tRNS', 'IDAT', 'IEND']);
    assert.deepEqual(Buffer.from(kept), clean);
  });

  it('keeps unknown critical chunks, so that the decoder still refuses them', () => {
    const odd = withChunks(clean, [pngChunk('ABCD', Buffer.from('x'))]);
    assert.ok(chunkTypes(keepEssentialChunks(odd)!).includes('ABCD'));
  });

  it('reports a chunk that runs past the end', () => {
    assert.equal(keepEssentialChunks(clean.subarray(0, clean.length - 20)), undefined);
    assert.equal(keepEssentialChunks(clean.subarray(0, 20)), undefined);
  });

  // PNG spec 5.4: a type is four ASCII letters. 0x00 0x01 0x02 0x03 would be critical by the case
  // bit; '[' and '`' sit just past 'Z' and before 'a', '@' and '{' just before 'A' and past 'z'.
  const BAD_TYPES = ['\x00\x01\x02\x03', 'a1cd', 'AB D', '[BCD', '`bcd', '@BCD', 'abc{', 'ab\xe9d', 'IHD\x00'];

  it('reports a chunk whose type is not four ASCII letters, after IHDR or before IEND', () => {
    for (const type of BAD_TYPES) {
      for (const index of [1, 4]) {
        const bad = insertChunk(clean, index, pngChunk(type, Buffer.from('x')));
        assert.equal(chunkSpans(bad), undefined, `${JSON.stringify(type)} at ${index}`);
        assert.equal(keepEssentialChunks(bad), undefined, `${JSON.stringify(type)} at ${index}`);
      }
    }
  });

  it('still ignores what follows IEND, even bytes that read as a chunk with an invalid type', () => {
    const trailing = Buffer.concat([clean, pngChunk('\x00\x01\x02\x03', Buffer.from('x'))]);
    assert.equal(chunkSpans(trailing)?.trailing, true);
    assert.deepEqual(Buffer.from(keepEssentialChunks(trailing)!), clean);
  });

  it('decodes 100 chunks of 8 MiB of compressed text as the clean image, without inflating them', async () => {
    const bomb = pngChunk('zTXt', Buffer.concat([Buffer.from('Comment\0\0'), deflateSync(Buffer.alloc(8 * 1024 * 1024))]));
    const upload = withChunks(clean, Array.from({ length: 100 }, () => bomb));
    const rssBefore = process.memoryUsage().rss;
    const decoded = await decodePng(upload, { maxPixels: 1_000_000 });
    const grewMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    assert.deepEqual(decoded, await decodePng(clean, { maxPixels: 1_000_000 }));
    assert.ok(grewMb < 200, `inflating them would take 800 MiB; grew ${grewMb.toFixed(0)} MiB`);
  });
});

describe('readPngHeader', () => {
  it('reads size, bit depth and colour type from IHDR', () => {
    assert.deepEqual(readPngHeader(patternPng(40, 30, 3)), { width: 40, height: 30, bitDepth: 8, colourType: 2 });
    assert.deepEqual(readPngHeader(patternPng(7, 5, 3, { type: 'gray', depth: 16 })), { width: 7, height: 5, bitDepth: 16, colourType: 0 });
  });

  it('refuses a file whose first chunk is not a 13-byte IHDR', () => {
    const png = patternPng(40, 30, 3);
    const signature = png.subarray(0, 8);
    assert.equal(readPngHeader(Buffer.concat([signature, pngChunk('tEXt', Buffer.from('a\0b')), png.subarray(8)])), undefined);
    const long = Buffer.from(png);
    long.writeUInt32BE(14, 8);
    assert.equal(readPngHeader(long), undefined);
    assert.equal(readPngHeader(png.subarray(0, 30)), undefined);
  });

  it('gives the size before decoding, so an image claiming 4 billion pixels is refused unread', async () => {
    const png = Buffer.from(patternPng(40, 30, 3));
    png.writeUInt32BE(65_536, 16);
    png.writeUInt32BE(65_536, 20);
    await assert.rejects(decodePng(png, { maxPixels: 40_000_000 }), { name: 'DecodeError', kind: 'too_large', width: 65_536, height: 65_536 });
  });
});
