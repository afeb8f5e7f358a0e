/**
 * The bad-input catalogue of /work/shared/RELIABILITY.md §1, against the real app (tiny model,
 * real SQLite file, real sockets where a case needs one). Every case asserts:
 *   - the exact status (README's error table decides where it differs from RELIABILITY.md);
 *   - on an error, the one documented body: JSON {code, message, request_id}, nothing else, and no
 *     stack, path or library text;
 *   - the history row count is unchanged (exactly +1 for an accepted upload);
 *   - the next valid request still gets 200.
 *
 * Catalogue rows (#n) not covered here, with the reason:
 *   #38 sensor not owned by the caller's key, #46 no API key, #47 wrong key / key in the query,
 *   #48 read-only key on POST: there are no API keys yet.
 *   #52 rotated X-Forwarded-For, #54 burst over the rate limit: there is no rate limiting yet.
 *   #53 foreign Origin: there is no CORS yet (and no Access-Control-* header is ever sent).
 *   #13 maximum dimensions × 20 in parallel, and the invariant "RSS returns to baseline": capacity
 *   and memory tests, not bad input; too heavy for this suite (the machine is shared).
 *
 * Where this file asserts a status that RELIABILITY.md words differently, the case says why
 * (`debatable`): README's documented contract wins. `bug` marks a known defect: that part of the
 * case runs as a `todo` (reported, not failing) until it is fixed (see bugId below).
 *
 * Fixed while writing this suite, and held here: a history `limit` of ±Infinity or past 2^53
 * answered 200 and then broke the stream (src/http/history-query.ts); REQUEST_TIMEOUT_MS below
 * 60 s was not applied to request bodies, because Fastify sets server.requestTimeout only after
 * Node has fixed headersTimeout at 60 s (src/app.ts passes it to http.createServer too).
 *
 * The timeout case waits for Node's 30-s connection check: this file takes about 40 s.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { deflateSync } from 'node:zlib';
import type { InjectOptions } from 'fastify';
import sharp from 'sharp';
import { type PngColour, encodePng, pngChunk } from '../../src/synth/png-encode.js';
import type { PredictionRecord } from '../../src/store/record.js';
import { type TestApp, build } from '../helpers/build-app.js';
import { patternPng } from '../helpers/images.js';
import { BOUNDARY, type Part, multipartBody, multipartHeaders, predictForm } from '../helpers/multipart.js';
import { fixtureModel } from '../helpers/paths.js';
import { type RawResponse, rawExchange, requestHead, writeAll, writeSlowly } from '../helpers/raw-http.js';
import {
  type ErrorJson, IEND, type Reply, SIGNATURE, assemble, assertErrorShape, assertStillServes, chunkOf, chunksOf, flipLast, ihdr, validPng,
} from './support.js';

const MAX_UPLOAD_BYTES = 256 * 1024;
const MAX_QUEUE = 8;
const REQUEST_TIMEOUT_MS = 1000;
/** Node checks request and header timeouts every 30 s (connectionsCheckingInterval), so a cut-off lands up to 30 s late. */
const TIMEOUT_CHECK_INTERVAL_MS = 30_000;

const ENV = {
  MODEL_PATH: fixtureModel('tiny-logits2.onnx'),
  MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
  MAX_QUEUE: String(MAX_QUEUE),
  REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  INFERENCE_THREADS: '1',
};

/*
 * Known defects: a case that meets one carries `bug: 'id: what goes wrong'` and runs as a `todo`
 * until it is fixed (see the report). None is open. Fixed since: chunked-body-cap (a chunked body
 * over MAX_UPLOAD_BYTES through its multipart preamble got 200; src/http/read-upload.ts now caps
 * the whole body).
 */
const bugId = (bug: string) => bug.slice(0, bug.indexOf(':'));

// ---------------------------------------------------------------------------------------------
// Inputs

const png = (w: number, h: number, seed: number, colour?: PngColour) => patternPng(w, h, seed, colour);
const BASE = png(32, 24, 5);
const IHDR = chunkOf(BASE, 'IHDR').bytes;
const IDAT = chunkOf(BASE, 'IDAT');

let zerosMemo: Buffer | undefined;
/** 64 MiB of zeros, deflated (about 65 KB): the payload of every compression bomb below. */
const deflatedZeros = () => (zerosMemo ??= deflateSync(Buffer.alloc(64 * 2 ** 20), { level: 9 }));

/** The same image with one byte of the 8-byte signature replaced (PngSuite xs*n0g01). */
function badSignature(index: number, value: number): Buffer {
  const copy = Buffer.from(BASE);
  copy[index] = value;
  return copy;
}

function apng(): Buffer {
  const actl = pngChunk('acTL', Buffer.from([0, 0, 0, 2, 0, 0, 0, 0]));
  const fctl = (sequence: number) => {
    const data = Buffer.alloc(26);
    data.writeUInt32BE(sequence, 0);
    data.writeUInt32BE(32, 4);
    data.writeUInt32BE(24, 8);
    data.writeUInt16BE(1, 20);
    data.writeUInt16BE(10, 22);
    return pngChunk('fcTL', data);
  };
  const frame = deflateSync(Buffer.alloc(24 * (1 + 32 * 3), 255));
  const fdat = Buffer.concat([Buffer.alloc(4), frame]);
  fdat.writeUInt32BE(2, 0);
  return assemble(IHDR, actl, fctl(0), IDAT.bytes, fctl(1), pngChunk('fdAT', fdat), IEND);
}

function ancillaryBomb(type: 'zTXt' | 'iTXt' | 'iCCP'): Buffer {
  const prefix = { zTXt: 'Comment\0\0', iTXt: 'Comment\0\x01\x00\0\0', iCCP: 'ICC\0\0' }[type];
  const chunks = chunksOf(BASE).map((c) => c.bytes);
  return assemble(chunks[0]!, pngChunk(type, Buffer.concat([Buffer.from(prefix, 'latin1'), deflatedZeros()])), ...chunks.slice(1));
}

const otherFormat = (format: 'jpeg' | 'gif' | 'webp') =>
  sharp({ create: { width: 16, height: 16, channels: 3, background: '#c00' } }).toFormat(format).toBuffer();

// ---------------------------------------------------------------------------------------------
// Requests

const SENSOR = 'bad-input';
const post = (payload: Buffer | string, headers: Record<string, string> = multipartHeaders()): InjectOptions =>
  ({ method: 'POST', url: '/predict', payload, headers });
/** The predict form with this file (named .png, typed image/png, whatever it is). */
const upload = (bytes: Buffer, sensorId = SENSOR) => post(predictForm(bytes, sensorId, 'frame.png').payload);
const form = (parts: Part[]) => post(multipartBody(parts));
const filePart = (bytes: Buffer = validPng(), filename = 'frame.png'): Part => ({ name: 'file', value: bytes, filename, contentType: 'image/png' });
const sensorPart = (value = SENSOR): Part => ({ name: 'sensor_id', value });
/** A form whose body is written by hand (raw bytes between the parts). */
const rawForm = (...pieces: (string | Buffer)[]) => post(Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p))));
const partHead = (disposition: string, extra = '') => `--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n${extra}\r\n`;
const history = (query: string, headers: Record<string, string> = {}): InjectOptions => ({ method: 'GET', url: `/prediction_history${query}`, headers });

interface Case {
  /** RELIABILITY.md §1 rows, or '—' for a case of our own. */
  ref: string;
  name: string;
  status: number;
  /** The error code, for a status other than 200. */
  code?: string;
  /** Why this status, where RELIABILITY.md words it differently (README's contract wins). */
  debatable?: string;
  bug?: string;
  request: () => InjectOptions | Promise<InjectOptions>;
  /** More checks on a 200 upload: its response record, the same as the stored one. */
  check?: (record: PredictionRecord, t: TestApp) => void | Promise<void>;
  /** More checks on an error body. */
  checkError?: (err: ErrorJson) => void;
}

const FILE_CASES: Case[] = [
  { ref: '#1', name: 'empty file', status: 400, code: 'empty_file', request: () => upload(Buffer.alloc(0)) },
  { ref: '#10', name: 'only the 8-byte signature', status: 400, code: 'invalid_png', request: () => upload(SIGNATURE) },
  {
    ref: '#10', name: 'truncated IDAT: zlib stream cut short, CRC recomputed', status: 400, code: 'invalid_png',
    request: () => upload(assemble(IHDR, pngChunk('IDAT', IDAT.data.subarray(0, IDAT.data.length - 12)), IEND)),
  },
  { ref: '#10', name: 'file truncated in the middle of IDAT (head -c)', status: 400, code: 'invalid_png', request: () => upload(BASE.subarray(0, BASE.length - 30)) },
  { ref: '#10', name: 'file truncated inside IHDR', status: 400, code: 'invalid_png', request: () => upload(BASE.subarray(0, 20)) },
  {
    ref: '#5', name: 'bad IHDR CRC (xhdn0g08)', status: 400, code: 'invalid_png', debatable: 'RELIABILITY says 422; README: a corrupt PNG is 400 invalid_png',
    request: () => upload(assemble(flipLast(IHDR), IDAT.bytes, IEND)),
  },
  { ref: '#5', name: 'bad IDAT CRC', status: 400, code: 'invalid_png', request: () => upload(assemble(IHDR, flipLast(IDAT.bytes), IEND)) },
  { ref: '#6', name: 'bad IDAT zlib Adler-32 (xcsn0g01)', status: 400, code: 'invalid_png', request: () => upload(assemble(IHDR, pngChunk('IDAT', flipLast(IDAT.data)), IEND)) },
  { ref: '#7', name: 'missing IDAT (xdtn0g01)', status: 400, code: 'invalid_png', request: () => upload(assemble(IHDR, IEND)) },
  { ref: '#8', name: 'illegal colour type 1 (xc1n0g08)', status: 400, code: 'invalid_png', request: () => upload(assemble(ihdr(32, 24, 8, 1), IDAT.bytes, IEND)) },
  { ref: '#8', name: 'illegal bit depth: RGB at 3 bits (xd3n2c08)', status: 400, code: 'invalid_png', request: () => upload(assemble(ihdr(32, 24, 3, 2), IDAT.bytes, IEND)) },
  { ref: '#8', name: 'illegal bit depth 0 (xd0n2c08)', status: 400, code: 'invalid_png', request: () => upload(assemble(ihdr(32, 24, 0, 2), IDAT.bytes, IEND)) },
  { ref: '#8', name: 'illegal interlace method 2', status: 400, code: 'invalid_png', request: () => upload(assemble(ihdr(32, 24, 8, 2, 2), IDAT.bytes, IEND)) },
  { ref: '—', name: 'unknown critical chunk', status: 400, code: 'invalid_png', request: () => upload(assemble(IHDR, pngChunk('ABCD', Buffer.from('x')), IDAT.bytes, IEND)) },
  { ref: '#4', name: 'signature byte 1 with its high bit cleared (xs1n0g01)', status: 415, code: 'unsupported_image_type', request: () => upload(badSignature(0, 0x09)) },
  { ref: '#4', name: "signature byte 2 is 'Q' (xs2n0g01)", status: 415, code: 'unsupported_image_type', request: () => upload(badSignature(1, 0x51)) },
  { ref: '#4', name: "signature byte 4 lower-case 'g' (xs4n0g01)", status: 415, code: 'unsupported_image_type', request: () => upload(badSignature(3, 0x67)) },
  { ref: '#4', name: 'signature byte 7 a space, not ^Z (xs7n0g01)', status: 415, code: 'unsupported_image_type', request: () => upload(badSignature(6, 0x20)) },
  {
    ref: '#9', name: 'CR/LF-mangled (xcrn0g04: CRLF → LF throughout)', status: 415, code: 'unsupported_image_type',
    request: () => upload(Buffer.from(BASE.toString('latin1').replaceAll('\r\n', '\n'), 'latin1')),
  },
  {
    ref: '#9', name: 'CR/LF-mangled (xlfn0g04: LF → CRLF throughout)', status: 415, code: 'unsupported_image_type',
    request: () => upload(Buffer.from(BASE.toString('latin1').replaceAll('\n', '\r\n'), 'latin1')),
  },
  { ref: '#11', name: 'IHDR width 0', status: 400, code: 'invalid_png', request: () => upload(assemble(ihdr(0, 24), IDAT.bytes, IEND)) },
  { ref: '#11', name: 'IHDR height 0', status: 400, code: 'invalid_png', request: () => upload(assemble(ihdr(32, 0), IDAT.bytes, IEND)) },
  {
    ref: '#12', name: 'IHDR 60000×60000 with a tiny IDAT: refused from the header', status: 413, code: 'image_too_large',
    request: () => upload(assemble(ihdr(60000, 60000), IDAT.bytes, IEND)),
  },
  {
    ref: '#12', name: 'IHDR 7000×7000 (49 Mpx, over MAX_IMAGE_PIXELS) with a 64 MiB zlib bomb in IDAT', status: 413, code: 'image_too_large',
    request: () => upload(assemble(ihdr(7000, 7000), pngChunk('IDAT', deflatedZeros()), IEND)),
  },
  {
    ref: '#12', name: 'zlib bomb: a 64×64 IHDR whose IDAT inflates to 64 MiB decodes the 64×64 image and stops', status: 200,
    request: () => upload(assemble(ihdr(64, 64), pngChunk('IDAT', deflatedZeros()), IEND)),
    check: (r) => assert.deepEqual([r.image_width, r.image_height], [64, 64]),
  },
  {
    ref: '#12', name: 'a 2000×2000 all-zero image from 12 KB (12 MB of pixels, under the cap) decodes', status: 200,
    request: () => upload(assemble(ihdr(2000, 2000), pngChunk('IDAT', deflateSync(Buffer.alloc((2000 * 3 + 1) * 2000), { level: 9 })), IEND)),
    check: (r) => assert.deepEqual([r.image_width, r.image_height], [2000, 2000]),
  },
  ...(['zTXt', 'iTXt', 'iCCP'] as const).map((type): Case => ({
    ref: '#14', name: `ancillary-chunk bomb: ${type} inflating to 64 MiB is dropped unread`, status: 200,
    debatable: 'RELIABILITY says 422; the service drops ancillary chunks before decoding (src/image/png-chunks.ts), so the image is classified',
    request: () => upload(ancillaryBomb(type)),
  })),
  {
    ref: '#16', name: 'APNG (acTL, fcTL, fdAT): the default image is classified', status: 200,
    debatable: 'RELIABILITY allows 200 or 415; the documented policy (decode-png tests) is the default image',
    request: () => upload(apng()),
    check: (r) => assert.deepEqual([r.image_width, r.image_height], [32, 24]),
  },
  {
    ref: '#15', name: 'Adam7-interlaced', status: 200,
    request: () => upload(encodePng({ width: 33, height: 17, colour: { type: 'rgb', depth: 8 }, samples: Array.from({ length: 33 * 17 * 3 }, (_, i) => i % 251), interlace: true })),
  },
  { ref: '#18', name: '1×1', status: 200, request: () => upload(png(1, 1, 3)) },
  { ref: '#18', name: '1×100000', status: 200, request: () => upload(png(1, 100_000, 4, { type: 'gray', depth: 8 })), check: (r) => assert.equal(r.image_height, 100_000) },
  { ref: '#18', name: '100000×1', status: 200, request: () => upload(png(100_000, 1, 4, { type: 'gray', depth: 8 })), check: (r) => assert.equal(r.image_width, 100_000) },
  { ref: '#17', name: '16-bit RGBA', status: 200, request: () => upload(png(20, 10, 6, { type: 'rgba', depth: 16 })) },
  {
    ref: '#17', name: 'palette with tRNS', status: 200,
    request: () => upload(png(20, 10, 7, { type: 'palette', palette: new Uint8Array([0, 0, 0, 200, 20, 20, 20, 200, 20]), alpha: new Uint8Array([0, 128]) })),
  },
  { ref: '#17', name: 'grey 1-bit', status: 200, request: () => upload(png(21, 9, 8, { type: 'gray', depth: 1 })) },
  {
    ref: '#19', name: 'trailing bytes after IEND (a PNG+ZIP polyglot)', status: 200,
    debatable: 'RELIABILITY asks for one policy, 200 or 400: trailing bytes are ignored (decode-png tests), and the upload is never stored or served',
    request: () => upload(Buffer.concat([BASE, Buffer.from('PK\x03\x04\x14\x00\x00\x00\x08\x00polyglot.txt', 'latin1')])),
  },
  { ref: '#3', name: 'a JPEG named .png, typed image/png', status: 415, code: 'unsupported_image_type', request: async () => upload(await otherFormat('jpeg')) },
  { ref: '#3', name: 'a GIF named .png', status: 415, code: 'unsupported_image_type', request: async () => upload(await otherFormat('gif')) },
  { ref: '#3', name: 'a WebP named .png', status: 415, code: 'unsupported_image_type', request: async () => upload(await otherFormat('webp')) },
  {
    ref: '#2', name: 'an SVG named .png', status: 415, code: 'unsupported_image_type',
    request: () => upload(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>')),
  },
  { ref: '#2', name: 'a PDF named .png', status: 415, code: 'unsupported_image_type', request: () => upload(Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n')) },
  { ref: '#2', name: 'a text file named .png', status: 415, code: 'unsupported_image_type', request: () => upload(Buffer.from('hello, this is not an image\n')) },
  { ref: '#2', name: 'ELF bytes named .png', status: 415, code: 'unsupported_image_type', request: () => upload(Buffer.from('\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0', 'latin1')) },
  { ref: '#2', name: 'JSON bytes named .png', status: 415, code: 'unsupported_image_type', request: () => upload(Buffer.from('{"image":"iVBORw0KGgo="}')) },
  { ref: '#2', name: 'a PNG signature followed by a JPEG', status: 400, code: 'invalid_png', request: async () => upload(Buffer.concat([SIGNATURE, await otherFormat('jpeg')])) },
];

const MULTIPART_CASES: Case[] = [
  { ref: '#20', name: 'a JSON body', status: 415, code: 'unsupported_media_type', request: () => post(JSON.stringify({ file: 'x', sensor_id: 'y' }), { 'content-type': 'application/json' }) },
  { ref: '#20', name: 'a urlencoded body', status: 415, code: 'unsupported_media_type', request: () => post('file=x&sensor_id=y', { 'content-type': 'application/x-www-form-urlencoded' }) },
  { ref: '#20', name: 'multipart/mixed', status: 415, code: 'unsupported_media_type', request: () => post(predictForm(validPng()).payload, { 'content-type': `multipart/mixed; boundary=${BOUNDARY}` }) },
  { ref: '#49', name: 'a body with no Content-Type', status: 415, code: 'unsupported_media_type', request: () => post(predictForm(validPng()).payload, {}) },
  {
    ref: '#20', name: 'an invalid JSON body', status: 400, code: 'bad_request',
    debatable: "Fastify's JSON parser runs (and fails) before the route can say 415; 400 bad_request is README's \"malformed request\"",
    request: () => post('{"file": ', { 'content-type': 'application/json' }),
  },
  { ref: '#21', name: 'multipart/form-data without a boundary', status: 400, code: 'malformed_multipart', request: () => post(predictForm(validPng()).payload, { 'content-type': 'multipart/form-data' }) },
  { ref: '#21', name: 'the wrong boundary', status: 400, code: 'malformed_multipart', request: () => post(predictForm(validPng()).payload, multipartHeaders(`${BOUNDARY}-other`)) },
  { ref: '#21', name: 'an empty boundary parameter', status: 400, code: 'malformed_multipart', request: () => post(predictForm(validPng()).payload, { 'content-type': 'multipart/form-data; boundary=' }) },
  { ref: '#21', name: 'a boundary over 70 characters', status: 400, code: 'malformed_multipart', request: () => post(predictForm(validPng()).payload, multipartHeaders('b'.repeat(100))) },
  { ref: '#22', name: 'body truncated in the middle of the file part', status: 400, code: 'malformed_multipart', request: () => post(predictForm(validPng()).payload.subarray(0, 200)) },
  {
    ref: '#22', name: 'body truncated in the middle of sensor_id (no closing boundary)', status: 400, code: 'malformed_multipart',
    request: () => rawForm(partHead('form-data; name="file"; filename="a.png"'), validPng(), `\r\n${partHead('form-data; name="sensor_id"')}abc`),
  },
  {
    ref: '#22', name: 'the closing boundary is missing after the file part', status: 400, code: 'malformed_multipart',
    request: () => rawForm(partHead('form-data; name="sensor_id"'), `${SENSOR}\r\n`, partHead('form-data; name="file"; filename="a.png"'), validPng()),
  },
  { ref: '—', name: 'bare LF line endings', status: 400, code: 'malformed_multipart', request: () => post(Buffer.from(predictForm(validPng()).payload.toString('latin1').replaceAll('\r\n', '\n'), 'latin1')) },
  { ref: '—', name: 'a body that is not multipart at all, with a multipart type', status: 400, code: 'malformed_multipart', request: () => post('this is not a multipart body') },
  {
    ref: '—', name: 'an empty body with a multipart type', status: 422, code: 'missing_field',
    debatable: 'busboy sees an empty form (no parts), so the file is reported missing rather than the framing broken',
    request: () => post(''),
  },
  { ref: '#23', name: 'no file part (sensor_id only)', status: 422, code: 'missing_field', debatable: 'RELIABILITY says 400; README: 422 missing_field', request: () => form([sensorPart()]) },
  { ref: '—', name: "'file' sent as a text field", status: 422, code: 'invalid_field', request: () => form([{ name: 'file', value: 'iVBORw0KGgo=' }, sensorPart()]) },
  {
    ref: '#24', name: 'two file parts named file', status: 422, code: 'duplicate_field', debatable: 'RELIABILITY says 413 (files limit); README: 422 duplicate_field',
    request: () => form([filePart(), filePart(validPng(2), 'b.png'), sensorPart()]),
  },
  {
    ref: '#25', name: 'body over MAX_UPLOAD_BYTES, with Content-Length', status: 413, code: 'upload_too_large',
    request: () => upload(Buffer.concat([validPng(), Buffer.alloc(MAX_UPLOAD_BYTES)])),
  },
  {
    ref: '#25', name: 'file over MAX_UPLOAD_BYTES, chunked (no Content-Length)', status: 413, code: 'upload_too_large',
    request: () => ({ ...upload(Buffer.concat([validPng(), Buffer.alloc(MAX_UPLOAD_BYTES)])), headers: { ...multipartHeaders(), 'transfer-encoding': 'chunked' } }),
  },
  {
    ref: '#26', name: 'too many fields (17 besides the form)', status: 413, code: 'too_many_parts',
    request: () => form([...Array.from({ length: 17 }, (_, i) => ({ name: `f${i}`, value: 'v' })), filePart(), sensorPart()]),
  },
  {
    ref: '#26', name: 'too many file parts (5 besides the form)', status: 413, code: 'too_many_parts',
    request: () => form([...Array.from({ length: 5 }, (_, i) => filePart(validPng(i), `x${i}.png`)).map((p, i) => ({ ...p, name: `other${i}` })), filePart(), sensorPart()]),
  },
  {
    ref: '#26', name: 'an extra field longer than fieldSize (17 KiB) is truncated and ignored', status: 200,
    debatable: 'RELIABILITY says 413; an unknown field is ignored whatever its size (README), and its size is bounded by busboy',
    request: () => form([{ name: 'note', value: 'n'.repeat(17 * 1024) }, filePart(), sensorPart()]),
  },
  { ref: '#27', name: 'a field named __proto__', status: 400, code: 'malformed_multipart', request: () => form([{ name: '__proto__', value: '{"polluted":true}' }, filePart(), sensorPart()]) },
  { ref: '#27', name: 'a field named constructor', status: 400, code: 'malformed_multipart', request: () => form([{ name: 'constructor', value: 'x' }, filePart(), sensorPart()]) },
  { ref: '#27', name: 'a file part named __proto__', status: 400, code: 'malformed_multipart', request: () => form([{ ...filePart(), name: '__proto__' }, filePart(), sensorPart()]) },
  {
    ref: '#28', name: 'filename ../../etc/passwd%00.png is never used', status: 200, request: () => form([filePart(validPng(), '../../etc/passwd%00.png'), sensorPart()]),
    check: (r) => assert.ok(!JSON.stringify(r).includes('passwd')),
  },
  {
    ref: '#28', name: 'a filename with a real NUL, a path and no extension', status: 200, request: () => form([filePart(validPng(), '/etc/shadow\0.png'), sensorPart()]),
  },
  {
    ref: '#29', name: 'a part header over 81,920 B (busboy headerSize)', status: 200,
    debatable: 'RELIABILITY says 400 or 413; busboy keeps the first 80 KiB of part headers and discards the rest, so memory stays bounded',
    request: () => rawForm(partHead('form-data; name="note"', `X-Padding: ${'p'.repeat(90_000)}\r\n`), 'v\r\n', predictForm(validPng()).payload),
  },
  {
    ref: '#29', name: 'a part with 3,000 header lines (over busboy headerPairs)', status: 200,
    debatable: 'RELIABILITY says 400 or 413; header pairs past the limit (64) are dropped',
    request: () => rawForm(partHead('form-data; name="note"', Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join('')), 'v\r\n', predictForm(validPng()).payload),
  },
  {
    ref: '—', name: 'parts without Content-Disposition, without a name, or as an attachment are ignored', status: 200,
    request: () => rawForm(
      `--${BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nv\r\n`, partHead('form-data'), 'v\r\n', partHead('attachment; name="sensor_id"'), 'spoofed\r\n',
      predictForm(validPng()).payload,
    ),
    check: (r) => assert.equal(r.sensor_id, 'sensor-1'),
  },
];

const FIELD_CASES: Case[] = [
  { ref: '#33', name: 'no sensor_id', status: 422, code: 'missing_field', debatable: 'RELIABILITY says 400; README: 422 missing_field', request: () => form([filePart()]) },
  { ref: '#33', name: 'an empty sensor_id', status: 422, code: 'invalid_sensor_id', request: () => upload(validPng(), '') },
  { ref: '#34', name: 'a sensor_id of 10 KB', status: 422, code: 'invalid_sensor_id', request: () => upload(validPng(), 's'.repeat(10_000)) },
  { ref: '#34', name: 'a sensor_id of 20 KB (over the field size limit)', status: 422, code: 'invalid_sensor_id', request: () => upload(validPng(), 's'.repeat(20_000)) },
  {
    ref: '#34', name: 'a sensor_id of 129 characters', status: 422, code: 'invalid_sensor_id', debatable: 'RELIABILITY says over 64; README documents 128',
    request: () => upload(validPng(), 's'.repeat(129)),
  },
  { ref: '#34', name: 'a sensor_id with NUL', status: 422, code: 'invalid_sensor_id', request: () => upload(validPng(), 'cam\u00001') },
  { ref: '#34', name: 'a sensor_id with CRLF (a forged log line)', status: 422, code: 'invalid_sensor_id', request: () => upload(validPng(), 'cam1\r\n{"level":50,"msg":"forged"}') },
  { ref: '#34', name: 'a sensor_id with ESC (terminal escapes)', status: 422, code: 'invalid_sensor_id', request: () => upload(validPng(), 'cam\u001b[31m1') },
  { ref: '#34', name: 'a sensor_id with DEL', status: 422, code: 'invalid_sensor_id', request: () => upload(validPng(), 'cam\u007f1') },
  { ref: '#34', name: 'a sensor_id with U+2028 LINE SEPARATOR', status: 422, code: 'invalid_sensor_id', request: () => upload(validPng(), 'cam\u20281') },
  { ref: '#34', name: 'a sensor_id with surrounding spaces', status: 422, code: 'invalid_sensor_id', request: () => upload(validPng(), ' cam1 ') },
  {
    ref: '#34', name: "a sensor_id of ' OR 1=1-- is stored verbatim", status: 200,
    debatable: 'RELIABILITY suggests an allow-list (400); README allows any printable text up to 128 characters, and the SQL is parameterised',
    request: () => upload(validPng(), "' OR 1=1--"),
    check: (r) => assert.equal(r.sensor_id, "' OR 1=1--"),
  },
  {
    ref: '#34', name: 'a sensor_id that is not valid UTF-8 (it would collapse into U+FFFD)', status: 422, code: 'invalid_sensor_id',
    request: () => rawForm(partHead('form-data; name="file"; filename="a.png"'), validPng(), `\r\n${partHead('form-data; name="sensor_id"')}cam\xff\xfe\r\n--${BOUNDARY}--\r\n`),
  },
  {
    ref: '#35', name: 'sensor_id sent twice', status: 422, code: 'duplicate_field', debatable: 'RELIABILITY says 400; README: 422 duplicate_field',
    request: () => form([filePart(), sensorPart('a'), sensorPart('b')]),
  },
  {
    ref: '#35', name: 'sensor_id sent twice, the second after the file', status: 422, code: 'duplicate_field',
    request: () => form([sensorPart('a'), filePart(), sensorPart('b')]),
  },
  {
    ref: '—', name: 'sensor_id sent as a file part', status: 422, code: 'invalid_field',
    request: () => form([filePart(), { name: 'sensor_id', value: SENSOR, filename: 'sensor.txt', contentType: 'text/plain' }]),
  },
  {
    ref: '#36', name: 'sensor_id after the file part is accepted', status: 200, request: () => form([filePart(), sensorPart('after-file')]),
    check: (r) => assert.equal(r.sensor_id, 'after-file'),
  },
  {
    ref: '#37', name: 'extra fields (label, created_at, prediction, id, timestamp, confidence, severity) are ignored, never stored', status: 200,
    request: () => form([
      { name: 'prediction', value: 'Leak' }, { name: 'label', value: 'Leak' }, { name: 'created_at', value: '1999-01-01T00:00:00Z' },
      filePart(png(24, 16, 11)), sensorPart('extras'),
      { name: 'id', value: '1' }, { name: 'timestamp', value: '1999-01-01T00:00:00Z' }, { name: 'confidence', value: '0.123' }, { name: 'severity', value: 'high' },
    ]),
    check: async (r, t) => {
      assert.notEqual(r.timestamp, '1999-01-01T00:00:00Z');
      assert.notEqual(r.confidence, 0.123);
      assert.ok(!('label' in r) && !('created_at' in r));
      const stored = await t.app.inject({ method: 'GET', url: '/prediction_history?sensor_id=extras' });
      assert.deepEqual(stored.json(), [r]);
    },
  },
];

const QUERY_CASES: Case[] = [
  ...['abc', '0', '-1', '1.5', '', 'true', '5%00', '1&limit=2'].map((v): Case => ({
    ref: '#39', name: `limit=${v}`, status: 400, code: 'invalid_parameter', request: () => history(`?limit=${v}`),
  })),
  {
    ref: '#40', name: 'limit=1000000 returns every record (no clamp; the array is streamed)', status: 200,
    debatable: 'RELIABILITY allows 400 or a clamp; README documents no maximum, and the response is streamed from the database, so memory stays flat',
    request: () => history('?limit=1000000'),
  },
  // These used to answer 200 and then destroy the response mid-stream (SQLite refused the LIMIT): fixed in toHistoryQuery.
  ...['1e20', '9007199254740992', 'Infinity', '1e400', '-1e400', '99999999999999999999999'].map((v): Case => ({
    ref: '#40', name: `limit=${v} (past 2^53, or infinite)`, status: 400, code: 'invalid_parameter', request: () => history(`?limit=${v}`),
  })),
  ...['0x10', '1e3', '+5', '%205'].map((v): Case => ({
    ref: '#39', name: `limit=${v} is coerced to a positive integer`, status: 200,
    debatable: "Ajv's coercion reads these as numbers (16, 1000, 5, 5); README says only 'a positive integer'. The config parser is stricter (plain decimals only)",
    request: () => history(`?limit=${v}`),
  })),
  { ref: '#41', name: 'offset=-1 is unknown, so ignored', status: 200, debatable: 'paging is by cursor: unknown parameters are ignored (#44)', request: () => history('?offset=-1') },
  { ref: '#41', name: 'cursor=garbage', status: 400, code: 'invalid_parameter', request: () => history('?cursor=%%%garbage') },
  { ref: '#41', name: 'a cursor that is valid base64url but not ours', status: 400, code: 'invalid_parameter', request: () => history(`?cursor=${Buffer.from('{"id":1}').toString('base64url')}`) },
  { ref: '#41', name: 'order=sideways', status: 400, code: 'invalid_parameter', request: () => history('?order=sideways') },
  { ref: '#41', name: 'format=xml', status: 400, code: 'invalid_parameter', request: () => history('?format=xml') },
  { ref: '#42', name: 'since=garbage', status: 400, code: 'invalid_parameter', request: () => history('?since=garbage') },
  { ref: '#42', name: 'until=2026-13-01', status: 400, code: 'invalid_parameter', request: () => history('?until=2026-13-01') },
  { ref: '#42', name: 'since=2026-02-30', status: 400, code: 'invalid_parameter', request: () => history('?since=2026-02-30') },
  { ref: '#42', name: 'since with a +25:00 offset', status: 400, code: 'invalid_parameter', request: () => history('?since=2026-01-01T00:00:00%2B25:00') },
  { ref: '#42', name: 'since > until', status: 400, code: 'invalid_parameter', request: () => history('?since=2026-02-01&until=2026-01-01') },
  { ref: '#43', name: 'sensor_id=a&sensor_id=b (several sensors)', status: 200, request: () => history('?sensor_id=a&sensor_id=b') },
  { ref: '#43', name: 'since given twice', status: 400, code: 'invalid_parameter', request: () => history('?since=2026-01-01&since=2026-01-02') },
  { ref: '#43', name: 'severity=critical', status: 400, code: 'invalid_parameter', request: () => history('?severity=critical') },
  ...["' OR 1=1--", '1; DROP TABLE predictions', "%' OR '%'='", '<script>alert(1)</script>', '${7*7}{{7*7}}', "Leak' UNION SELECT 1--"].flatMap((v): Case[] => [
    { ref: '#45', name: `sensor_id=${v} is a plain value (200, no match)`, status: 200, request: () => history(`?sensor_id=${encodeURIComponent(v)}`) },
    { ref: '#45', name: `prediction=${v} is a plain value (200, no match)`, status: 200, request: () => history(`?prediction=${encodeURIComponent(v)}`) },
    { ref: '#45', name: `since=${v}`, status: 400, code: 'invalid_parameter', request: () => history(`?since=${encodeURIComponent(v)}`) },
    { ref: '#45', name: `limit=${v}`, status: 400, code: 'invalid_parameter', request: () => history(`?limit=${encodeURIComponent(v)}`) },
  ]),
  {
    ref: '#44', name: 'unknown parameters (foo, __proto__[limit], sensor_id[]) are ignored', status: 200,
    debatable: 'RELIABILITY allows 400 or ignored, consistently: the route ignores every unknown parameter',
    request: () => history('?foo=bar&__proto__[limit]=abc&constructor=x&sensor_id[]=a'),
  },
  { ref: '—', name: 'a broken percent-encoding is a plain value', status: 200, request: () => history('?sensor_id=%E0%A4%A&x=%') },
  {
    ref: '#51', name: 'Accept: application/xml still gets JSON', status: 200,
    debatable: 'RELIABILITY allows 406 or JSON: the API only speaks JSON and ignores Accept',
    request: () => history('', { accept: 'application/xml' }),
  },
  { ref: '#51', name: 'Accept: application/xml on an error still gets the JSON error', status: 400, code: 'invalid_parameter', request: () => history('?limit=abc', { accept: 'application/xml' }) },
];

const METHOD_CASES: Case[] = [
  ...(['PUT', 'DELETE', 'PATCH', 'GET'] as const).map((method): Case => ({
    ref: '#55', name: `${method} /predict`, status: 405, code: 'method_not_allowed',
    request: () => ({ method, url: '/predict', payload: method === 'GET' ? undefined : predictForm(validPng()).payload, headers: multipartHeaders() }),
  })),
  { ref: '#55', name: 'POST /prediction_history', status: 405, code: 'method_not_allowed', request: () => ({ method: 'POST', url: '/prediction_history', payload: '{}', headers: { 'content-type': 'application/json' } }) },
  {
    ref: '—', name: 'an unsafe x-request-id is replaced, not echoed', status: 422, code: 'missing_field',
    request: () => ({ ...form([sensorPart()]), headers: { ...multipartHeaders(), 'x-request-id': `${'x'.repeat(80)} <script>` } }),
    checkError: (err) => assert.match(err.request_id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
  },
  {
    ref: '—', name: 'a safe x-request-id is kept in the error body and header', status: 422, code: 'missing_field',
    request: () => ({ ...form([sensorPart()]), headers: { ...multipartHeaders(), 'x-request-id': 'client-req.42' } }),
    checkError: (err) => assert.equal(err.request_id, 'client-req.42'),
  },
];

// ---------------------------------------------------------------------------------------------

let t: TestApp;
let port = 0;
let seed = 100;
async function listen(app: TestApp): Promise<number> {
  await app.app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.app.server.address();
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

before(async () => {
  t = await build(undefined, ENV);
  port = await listen(t);
});
after(async () => {
  await t.close();
});

const injected = async (options: InjectOptions): Promise<Reply> => {
  const res = await t.app.inject(options);
  return { status: res.statusCode, headers: res.headers, body: res.body };
};

/** The error-shape check, or a todo subtest for it when a known bug breaks it. */
async function checkShape(ctx: TestContext, res: Reply, code: string | undefined, bug: string | undefined): Promise<void> {
  if (bug === undefined) {
    assertErrorShape(res, code);
    return;
  }
  await ctx.test(`error body is {code, message, request_id} (known bug ${bugId(bug)})`, { todo: bug }, () => {
    assertErrorShape(res, code);
  });
}

async function runCase(ctx: TestContext, c: Case): Promise<void> {
  const options = await c.request();
  const isUpload = options.method === 'POST' && options.url === '/predict';
  const before = await t.history.count();
  const res = await injected(options);
  const rows = await t.history.count();
  if (c.bug !== undefined && res.status !== c.status) {
    // Still: never a 5xx, always JSON, nothing recorded.
    assert.ok(res.status !== undefined && res.status < 500, `${String(res.status)}: ${res.body}`);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(rows, before, 'a rejected request writes nothing');
    await ctx.test(`answers ${c.status} ${c.code ?? ''} (known bug ${bugId(c.bug)})`, { todo: c.bug }, () => {
      assert.equal(res.status, c.status, res.body);
    });
  } else {
    assert.equal(res.status, c.status, res.body.slice(0, 500));
    if (c.status === 200) {
      assert.match(String(res.headers['content-type']), /^application\/json/);
      if (isUpload) {
        assert.equal(rows, before + 1, 'an accepted upload is recorded once');
        const record = JSON.parse(res.body) as PredictionRecord;
        await c.check?.(record, t);
      } else {
        assert.equal(rows, before, 'a read writes nothing');
        assert.ok(Array.isArray(JSON.parse(res.body)), 'the history is a JSON array');
      }
    } else {
      assert.equal(rows, before, 'a rejected request writes nothing');
      await checkShape(ctx, res, c.code, undefined);
      c.checkError?.(JSON.parse(res.body) as ErrorJson);
    }
  }
  await assertStillServes(t, seed++);
}

for (const [group, cases] of [
  ['file content', FILE_CASES],
  ['multipart structure', MULTIPART_CASES],
  ['form fields', FIELD_CASES],
  ['history query parameters', QUERY_CASES],
  ['methods and headers (inject)', METHOD_CASES],
] as const) {
  describe(`bad input: ${group}`, () => {
    for (const c of cases) {
      it(`${c.ref} ${c.name} → ${c.status}${c.code ? ` ${c.code}` : ''}`, async (ctx) => runCase(ctx, c));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Raw sockets: what inject() cannot send.

const CT = `multipart/form-data; boundary=${BOUNDARY}`;
const FORM = predictForm(validPng(3), 'raw-socket').payload;
const head = (headers: Record<string, string | number>, method = 'POST', path = '/predict') => requestHead(method, path, headers);
const whole = (extra: Record<string, string | number> = {}, body: Buffer = FORM) =>
  Buffer.concat([Buffer.from(head({ 'Content-Type': CT, 'Content-Length': body.length, ...extra })), body]);

/** A request in HTTP/1.1 chunked encoding, one chunk per `chunkSize` bytes. */
function chunked(body: Buffer, chunkSize: number): Buffer {
  const out: Buffer[] = [Buffer.from(head({ 'Content-Type': CT, 'Transfer-Encoding': 'chunked' }))];
  for (let i = 0; i < body.length; i += chunkSize) {
    const piece = body.subarray(i, i + chunkSize);
    out.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  out.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(out);
}

interface SocketCase {
  ref: string;
  name: string;
  /** The accepted outcomes: a status, or 'closed' (the server closed without answering). */
  expect: (number | 'closed')[];
  code?: string;
  debatable?: string;
  /** The status is right but the body shape is not (a todo subtest). */
  shapeBug?: string;
  /** The status itself is wrong (a todo subtest); the case still checks: no 5xx, no row, still serving. */
  bug?: string;
  timeoutMs?: number;
  write: Parameters<typeof rawExchange>[1];
  check?: (res: RawResponse) => void;
}

const send = (data: Buffer | string): SocketCase['write'] => async ({ socket }) => writeAll(socket, data);

const SOCKET_CASES: SocketCase[] = [
  { ref: '—', name: 'a valid upload over a raw socket (control)', expect: [200], write: send(whole()) },
  {
    ref: '#30', name: 'Content-Length smaller than the body: the rest is parsed as a broken next request', expect: [400],
    write: send(whole({ 'Content-Length': FORM.length - 100 })),
  },
  {
    ref: '#22', name: 'body truncated by a half-close (FIN) in the middle of the file part', expect: [400, 'closed'],
    write: async ({ socket }) => {
      await writeAll(socket, whole().subarray(0, 300));
      socket.end();
    },
  },
  {
    ref: '#22', name: 'body truncated by a reset (the client goes away) in the middle of the file part', expect: ['closed'],
    write: async ({ socket }) => {
      await writeAll(socket, whole().subarray(0, 300));
      await sleep(100);
      socket.resetAndDestroy();
    },
  },
  {
    ref: '#32', name: '65,537 one-byte chunks (a body under MAX_UPLOAD_BYTES)', expect: [200], timeoutMs: 20_000,
    debatable: "RELIABILITY says 400 or 413 (Triton's chunk cap); Node's parser streams chunks with no count limit and the body is under the cap, so memory stays bounded",
    write: send(chunked(Buffer.concat([Buffer.alloc(65_537 - FORM.length, 0x20), Buffer.from('\r\n'), FORM]), 1)),
  },
  {
    ref: '#25', name: 'a chunked file over MAX_UPLOAD_BYTES', expect: [413], code: 'upload_too_large',
    write: send(chunked(predictForm(Buffer.concat([validPng(), Buffer.alloc(MAX_UPLOAD_BYTES + 1024)])).payload, 16 * 1024)),
  },
  {
    ref: '#25', name: 'a chunked body over MAX_UPLOAD_BYTES through its preamble (the file is small)', expect: [413], code: 'upload_too_large',
    write: send(chunked(Buffer.concat([Buffer.alloc(MAX_UPLOAD_BYTES + 1024, 0x20), Buffer.from('\r\n'), FORM]), 16 * 1024)),
  },
  {
    ref: '#25', name: 'Content-Length over MAX_UPLOAD_BYTES: refused from the header, before any body', expect: [413], code: 'upload_too_large',
    write: send(head({ 'Content-Type': CT, 'Content-Length': MAX_UPLOAD_BYTES + 1 })),
  },
  {
    ref: '#56', name: 'Content-Length: 99999999999 (in range for Node, over the cap)', expect: [413], code: 'upload_too_large',
    write: send(head({ 'Content-Type': CT, 'Content-Length': '99999999999' })),
  },
  {
    ref: '#56', name: 'Content-Length past 2^64', expect: [400],
    write: send(head({ 'Content-Type': CT, 'Content-Length': '99999999999999999999999' })),
  },
  { ref: '#56', name: 'Content-Length: -1', expect: [400], write: send(head({ 'Content-Type': CT, 'Content-Length': '-1' })) },
  {
    ref: '#56', name: "Triton's Inference-Header-Content-Length: 99999999999 is an unknown header, ignored", expect: [200],
    write: send(whole({ 'Inference-Header-Content-Length': '99999999999' })),
  },
  {
    ref: '—', name: 'both Content-Length and Transfer-Encoding (request smuggling)', expect: [400],
    write: send(whole({ 'Transfer-Encoding': 'chunked' })),
  },
  {
    ref: '—', name: 'a chunk size that is not hex', expect: [400],
    write: send(`${head({ 'Content-Type': CT, 'Transfer-Encoding': 'chunked' })}zz\r\nabc\r\n`),
  },
  { ref: '—', name: 'a malformed request line', expect: [400], write: send('GARBAGE /predict\r\n\r\n') },
  { ref: '—', name: 'an HTTP/1.1 request without Host', expect: [400], code: 'bad_request', write: send('GET /healthz HTTP/1.1\r\n\r\n') },
  { ref: '—', name: 'Expect: 200-ok (only 100-continue exists)', expect: [417], code: 'bad_request', write: send(head({ Expect: '200-ok' }, 'GET', '/healthz')) },
  {
    ref: '#50', name: 'request headers over 16 KiB', expect: [431],
    write: send(head({ 'X-Padding': 'p'.repeat(17 * 1024) }, 'GET', '/prediction_history')),
  },
  {
    ref: '#49', name: 'POST with a body and no Content-Type', expect: [415], code: 'unsupported_media_type',
    write: send(Buffer.concat([Buffer.from(head({ 'Content-Length': FORM.length })), FORM])),
  },
];

describe('bad input over raw sockets', () => {
  for (const c of SOCKET_CASES) {
    it(`${c.ref} ${c.name} → ${c.expect.join(' or ')}`, async (ctx) => {
      const before = await t.history.count();
      const res = await rawExchange(port, c.write, { timeoutMs: c.timeoutMs ?? 10_000 });
      assert.ok(!res.timedOut, `no answer and no close within ${c.timeoutMs ?? 10_000} ms`);
      const outcome = res.status ?? 'closed';
      const rows = await t.history.count();
      const reply: Reply = { status: res.status, headers: res.headers, body: res.body };
      if (outcome === 200) {
        assert.equal(rows, before + 1, 'an accepted upload is recorded once');
      } else {
        assert.equal(rows, before, 'a rejected request writes nothing');
        if (typeof outcome === 'number') assert.ok(outcome < 500, `${outcome}: ${res.body}`);
      }
      if (c.bug !== undefined && !c.expect.includes(outcome)) {
        await ctx.test(`answers ${c.expect.join(' or ')} (known bug ${bugId(c.bug)})`, { todo: c.bug }, () => {
          assert.ok(c.expect.includes(outcome), `${String(outcome)}: ${res.body}`);
        });
      } else {
        assert.ok(c.expect.includes(outcome), `${String(outcome)}: ${res.body.slice(0, 300)}`);
        if (typeof outcome === 'number' && outcome !== 200) await checkShape(ctx, reply, c.code, c.shapeBug);
      }
      await assertStillServes(t, seed++);
    });
  }

  it(`#31 slow upload (1 byte/s), slow headers, and Content-Length larger than the body are cut off at REQUEST_TIMEOUT_MS (${REQUEST_TIMEOUT_MS} ms, checked every 30 s), and free their place in the queue`, async (ctx) => {
    // An app of its own, so that its queue starts empty: MAX_QUEUE = 2, both taken by the slow uploads.
    const own = await build(ctx, { ...ENV, MAX_QUEUE: '2' });
    const ownPort = await listen(own);
    const deadline = REQUEST_TIMEOUT_MS + TIMEOUT_CHECK_INTERVAL_MS + 5000;
    const started = Date.now();
    const results = await Promise.all([
      rawExchange(ownPort, async (w) => {
        await writeAll(w.socket, head({ 'Content-Type': CT, 'Content-Length': FORM.length }));
        await writeSlowly(w, FORM, { bytesPerWrite: 1, intervalMs: 1000 });
      }, { timeoutMs: deadline }),
      rawExchange(ownPort, async (w) => writeSlowly(w, Buffer.from(head({ 'Content-Type': CT, 'Content-Length': FORM.length })), { intervalMs: 1000 }), { timeoutMs: deadline }),
      rawExchange(ownPort, send(whole({ 'Content-Length': FORM.length + 100 })), { timeoutMs: deadline }),
    ]);
    for (const [i, res] of results.entries()) {
      const label = ['slow body', 'slow headers', 'Content-Length > body'][i]!;
      assert.ok(!res.timedOut, `${label}: still open after ${deadline} ms`);
      assert.ok(res.status === 408 || (res.status === undefined && res.closed), `${label}: ${String(res.status)} ${res.body}`);
      if (res.status === 408) await checkShape(ctx, { status: res.status, headers: res.headers, body: res.body }, 'request_timeout', undefined);
    }
    assert.ok(Date.now() - started < deadline);
    assert.equal(await own.history.count(), 0);
    // Both timed-out uploads left the admission queue: two concurrent uploads both get in.
    const concurrent = await Promise.all([1, 2].map((i) => own.app.inject({ method: 'POST', url: '/predict', ...predictForm(validPng(900 + i), 'after-timeouts') })));
    assert.deepEqual(concurrent.map((r) => r.statusCode), [200, 200]);
    await assertStillServes(own, seed++);
  });

  it('a client that sends its whole upload and goes away before the answer does not keep its place in the queue', async (ctx) => {
    const own = await build(ctx, { ...ENV, MAX_QUEUE: '1' });
    const ownPort = await listen(own);
    const res = await rawExchange(ownPort, async ({ socket }) => {
      await writeAll(socket, whole());
      socket.destroy();
    });
    assert.equal(res.status, undefined);
    // The abandoned upload may still be classified and recorded; wait until it has been handled.
    for (let waited = 0; waited < 5000 && (await own.history.count()) === 0; waited += 50) await sleep(50);
    await sleep(200);
    const next = await own.app.inject({ method: 'POST', url: '/predict', ...predictForm(validPng(77), 'after-disconnect') });
    assert.equal(next.statusCode, 200, next.body);
  });

  it('#56 after a 413 from the Content-Length header the connection is closed, not kept reading the upload', async () => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(head({ 'Content-Type': CT, 'Content-Length': '99999999999' }));
    // Keep uploading, as a client that does not read its answer would; the server must hang up.
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    const started = Date.now();
    let sent = 0;
    while (!socket.destroyed && Date.now() - started < 5000) {
      if (socket.write(chunk)) sent += chunk.length;
      else await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed, sleep(100)]);
    }
    await Promise.race([closed, sleep(1000)]);
    socket.destroy();
    assert.match(received, /^HTTP\/1\.1 413 /);
    assert.match(received, /\r\nconnection: close\r\n/i);
    assert.ok(Date.now() - started < 5000, `the server kept the connection open while ${sent} bytes were sent`);
  });

  it('a client that hangs up mid-upload is counted as client_closed, not as an internal error', async () => {
    const count = async (code: string) => {
      const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
      return Number(new RegExp(`^leakwatch_rejected_requests_total\\{code="${code}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    };
    const [internalBefore, closedBefore] = [await count('internal_error'), await count('client_closed')];
    for (let i = 0; i < 3; i++) {
      await rawExchange(port, async ({ socket }) => {
        await writeAll(socket, whole().subarray(0, 300));
        await sleep(100);
        socket.resetAndDestroy();
      });
    }
    for (let waited = 0; waited < 3000 && (await count('client_closed')) < closedBefore + 3; waited += 50) await sleep(50);
    assert.equal(await count('client_closed'), closedBefore + 3);
    assert.equal(await count('internal_error'), internalBefore);
  });
});
