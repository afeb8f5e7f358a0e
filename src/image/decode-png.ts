import sharp from 'sharp';
import type { RawImage } from '../preprocess/types.js';
import { type PngHeader, keepEssentialChunks, readPngHeader } from './png-chunks.js';
import { decodePlainPng } from './png-fast.js';

/** The only module that imports sharp. It loads in any thread: the inference workers decode too. */

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

/** An upload that passed the checks made before decoding: its essential chunks, and its header. */
export interface InspectedPng {
  /** The upload with only the chunks decoding reads (keepEssentialChunks). */
  png: Uint8Array;
  header: PngHeader;
}

/**
 * The checks that come before any pixel is decoded, cheap enough for the event loop: the chunk
 * structure, an IHDR first, its dimensions against the pixel limit.
 * @throws {DecodeError} `corrupt` or `too_large`.
 */
export function inspectPng(upload: Uint8Array, limits: DecodeLimits): InspectedPng {
  const png = keepEssentialChunks(upload);
  if (!png) throw new DecodeError('corrupt', 'a chunk runs past the end of the file or has an invalid type');
  // Read from the upload, not from `png`: dropping ancillary chunks would hide one placed before IHDR.
  const header = readPngHeader(upload);
  if (!header) throw new DecodeError('corrupt', 'the file does not start with an IHDR chunk');
  const { width, height } = header;
  if (!(width > 0 && height > 0)) throw new DecodeError('corrupt', `invalid dimensions ${width}x${height}`);
  if (width * height > limits.maxPixels) throw new DecodeError('too_large', 'too many pixels', width, height);
  return { png, header };
}

/**
 * Decodes an inspected PNG to raw samples at its native depth (16-bit stays 16-bit). Palette
 * images come out expanded; grey comes out as RGB; tRNS becomes an alpha channel. The plain
 * variants that sensors send take png-fast.ts's path, in the calling thread; the rest, and every
 * file that path declines, go to sharp.
 * @throws {DecodeError} `corrupt`.
 */
export async function decodeInspected({ png, header }: InspectedPng): Promise<RawImage> {
  return decodePlainPng(png) ?? decodeWithSharp(png, header);
}

/** inspectPng, then decodeInspected. */
export async function decodePng(upload: Uint8Array, limits: DecodeLimits): Promise<RawImage> {
  return decodeInspected(inspectPng(upload, limits));
}

/** The reference decoder: every PNG variant, and the verdict on every anomaly. */
export async function decodeWithSharp(png: Uint8Array, header: PngHeader): Promise<RawImage> {
  const depth = header.bitDepth === 16 ? 16 : 8;
  try {
    const { data, info } = await sharp(png, { ...SHARP_OPTIONS, limitInputPixels: header.width * header.height })
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
