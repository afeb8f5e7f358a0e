/**
 * Keeps only what classification reads from a PNG: its critical chunks (IHDR, PLTE, IDAT, IEND,
 * and any unknown critical chunk, so that the decoder still refuses it) and tRNS. Ancillary
 * chunks — text, ICC profiles, gamma, APNG frames — change nothing in the RGB samples the model
 * sees (docs/preprocessing.md ignores them), but compressed ones can inflate to gigabytes inside
 * the decoder: dropping them before decoding closes that door.
 *
 * The chunks kept are copied byte for byte, CRCs included, so the decoder still checks them.
 * Returns undefined when the chunk structure itself is broken (chunkSpans).
 */
const SIGNATURE_LENGTH = 8;
const KEPT_ANCILLARY = new Set(['tRNS']);

/** The 4-letter type of the chunk that starts at `pos`. */
const chunkType = (png: Uint8Array, pos: number) => String.fromCharCode(png[pos + 4]!, png[pos + 5]!, png[pos + 6]!, png[pos + 7]!);

const isCritical = (type: string) => type.charCodeAt(0) >= 65 && type.charCodeAt(0) <= 90;

/**
 * A type of four ASCII letters, as the PNG specification (5.4) requires. Checked before the case
 * bits mean anything: 0x00 0x01 0x02 0x03 is neither critical nor ancillary, and would otherwise
 * be dropped as ancillary, when sharp refuses the whole file.
 */
const isValidType = (type: string) => /^[A-Za-z]{4}$/.test(type);

/** Where a chunk lies in the file: `start` at its length field, `end` just after its CRC. */
export interface ChunkSpan {
  type: string;
  start: number;
  end: number;
}

/**
 * The chunks after the signature, in order, up to and including IEND. Whatever follows IEND (a
 * second image, a ZIP, padding) is not part of this PNG: `trailing` says whether anything does.
 * Undefined when a chunk runs past the end of the data or its type is not four ASCII letters.
 * Reads lengths and types only; no CRC.
 */
export function chunkSpans(png: Uint8Array): { spans: ChunkSpan[]; trailing: boolean } | undefined {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const spans: ChunkSpan[] = [];
  let pos = SIGNATURE_LENGTH;
  while (pos < png.length) {
    if (pos + 12 > png.length) return undefined;
    const end = pos + 12 + view.getUint32(pos);
    if (end > png.length) return undefined;
    const type = chunkType(png, pos);
    if (!isValidType(type)) return undefined;
    spans.push({ type, start: pos, end });
    pos = end;
    if (type === 'IEND') break;
  }
  return { spans, trailing: pos < png.length };
}

export function keepEssentialChunks(png: Uint8Array): Uint8Array | undefined {
  const walked = chunkSpans(png);
  if (!walked) return undefined;
  const kept = walked.spans.filter(({ type }) => isCritical(type) || KEPT_ANCILLARY.has(type));
  if (kept.length === walked.spans.length && !walked.trailing) return png;
  const out = new Uint8Array(SIGNATURE_LENGTH + kept.reduce((n, k) => n + k.end - k.start, 0));
  out.set(png.subarray(0, SIGNATURE_LENGTH));
  let offset = SIGNATURE_LENGTH;
  for (const { start, end } of kept) {
    out.set(png.subarray(start, end), offset);
    offset += end - start;
  }
  return out;
}

/** What the IHDR chunk says about the image. */
export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
}

const IHDR_LENGTH = 13;

/**
 * Reads the header from the first chunk, which the PNG specification requires to be a 13-byte
 * IHDR; undefined when it is not. Its CRC is checked by the decoder, which refuses the file.
 * Read here so that an image's size is known, and refused when too large, before any decoding.
 */
export function readPngHeader(png: Uint8Array): PngHeader | undefined {
  if (png.length < SIGNATURE_LENGTH + 8 + IHDR_LENGTH + 4) return undefined;
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  if (view.getUint32(SIGNATURE_LENGTH) !== IHDR_LENGTH || chunkType(png, SIGNATURE_LENGTH) !== 'IHDR') return undefined;
  return { width: view.getUint32(16), height: view.getUint32(20), bitDepth: png[24]!, colourType: png[25]! };
}
