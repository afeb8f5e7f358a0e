import sharp from 'sharp';
import type { RawImage } from '../preprocess/types.js';
import { keepEssentialChunks, readPngHeader } from './png-chunks.js';

/** The only module that imports sharp. */

// Only the PNG loader may ever run on uploads, whatever the bytes claim to be.
sharp.block({ operation: ['VipsForeignLoad'] });
sharp.unblock({ operation: ['VipsForeignLoadPngBuffer'] });
// Decoding runs in libuv's pool; keep libvips's own threading and cache from competing with inference.
sharp.concurrency(1);
sharp.cache(false);

export interface DecodeLimits {
  maxPixels: number;
}

/** Why an upload could not be decoded; `kind` maps to the API error. */
export class DecodeError extends Error {
  override name = 'DecodeError';
  constructor(
    readonly kind: 'corrupt' | 'too_large',
    message: string,
    readonly width = 0,
    readonly height = 0,
  ) {
    super(message);
  }
}

const SHARP_OPTIONS = { failOn: 'warning', limitInputPixels: false, sequentialRead: true, pages: 1, ignoreIcc: true } as const;

/**
 * Decodes a PNG to raw samples at its native depth (16-bit stays 16-bit). Palette images come
 * out expanded; grey comes out as RGB. The header (IHDR) is checked before any pixel is decoded.
 */
export async function decodePng(upload: Uint8Array, limits: DecodeLimits): Promise<RawImage> {
  const bytes = keepEssentialChunks(upload);
  if (!bytes) throw new DecodeError('corrupt', 'a chunk runs past the end of the file');
  const header = readPngHeader(bytes);
  if (!header) throw new DecodeError('corrupt', 'the file does not start with an IHDR chunk');
  const { width, height } = header;
  if (!(width > 0 && height > 0)) throw new DecodeError('corrupt', `invalid dimensions ${width}x${height}`);
  if (width * height > limits.maxPixels) throw new DecodeError('too_large', 'too many pixels', width, height);
  const depth = header.bitDepth === 16 ? 16 : 8;
  try {
    const { data, info } = await sharp(bytes, { ...SHARP_OPTIONS, limitInputPixels: limits.maxPixels })
      .toColourspace(depth === 16 ? 'rgb16' : 'srgb') // sharp's default, sRGB, is 8-bit: 16-bit samples would lose their low byte
      .raw({ depth: depth === 16 ? 'ushort' : 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const channels = info.channels;
    if (channels < 1 || channels > 4) throw new DecodeError('corrupt', `unexpected channel count ${channels}`);
    const samples = depth === 16 ? new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length)) : new Uint8Array(data.buffer, data.byteOffset, data.length);
    return { data: samples, width: info.width, height: info.height, channels, depth };
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError('corrupt', (err as Error).message);
  }
}
