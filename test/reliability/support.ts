/**
 * Shared by the reliability suites: PNG surgery (chunks, IHDR, corruption), the one error-shape
 * check, and a uniform view of responses from inject() and from raw sockets.
 */
import assert from 'node:assert/strict';
import { pngChunk } from '../../src/synth/png-encode.js';
import type { TestApp } from '../helpers/build-app.js';
import { patternPng } from '../helpers/images.js';
import { predictForm } from '../helpers/multipart.js';

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
export { flipLast, ihdr } from '../helpers/png-bytes.js';

/** A small valid PNG; different seeds give different bytes (so image hashes differ). */
export const validPng = (seed = 1): Buffer => patternPng(24, 16, seed);

/** Status, headers and body of a response, however it was obtained. */
export interface Reply {
  status: number | undefined;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

export interface ErrorJson {
  code: string;
  message: string;
  request_id: string;
}

/**
 * Things an error body must never contain: stack frames, paths, library names or their codes.
 * (User input echoed back in a message is the caller's business: cases avoid these words.)
 */
export const LEAKS = [
  /busboy/i, /fastify/i, /FST_/, /\bError:/, /^\s*at\s/m, /\bat\s+\S+\s+\(/, /:\d+:\d+\)/, /\/work\//, /node_modules/,
  /\bsharp\b/i, /vips/i, /libpng/i, /zlib/i, /sqlite/i, /kysely/i, /onnx/i, /\bstack\b/i, /\[object /, /undefined/,
];

/** Asserts the one documented error shape: JSON {code, message, request_id}, nothing else, no leaks. */
export function assertErrorShape(res: Reply, code?: string): ErrorJson {
  assert.match(String(res.headers['content-type']), /^application\/json/, `content-type: ${String(res.headers['content-type'])}`);
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    assert.fail(`the body is not JSON: ${res.body.slice(0, 200)}`);
  }
  assert.ok(body !== null && typeof body === 'object' && !Array.isArray(body), `not a JSON object: ${res.body}`);
  const err = body as Record<string, unknown>;
  assert.deepEqual(Object.keys(err).sort(), ['code', 'message', 'request_id'], `body keys: ${res.body}`);
  assert.equal(typeof err.code, 'string');
  assert.equal(typeof err.message, 'string');
  assert.equal(typeof err.request_id, 'string');
  assert.match(err.code as string, /^[a-z_]+$/);
  assert.ok((err.message as string).length >= 10, `message too short: ${res.body}`);
  assert.equal(err.request_id, res.headers['x-request-id'], 'request_id matches the x-request-id header');
  for (const leak of LEAKS) assert.doesNotMatch(res.body, leak, `the error body leaks ${String(leak)}: ${res.body}`);
  if (code !== undefined) assert.equal(err.code, code, res.body);
  return err as unknown as ErrorJson;
}

/** The next valid request gets 200 and records exactly one row. */
export async function assertStillServes(t: TestApp, seed: number): Promise<void> {
  const before = await t.history.count();
  const res = await t.app.inject({ method: 'POST', url: '/predict', ...predictForm(validPng(seed), 'still-serving') });
  assert.equal(res.statusCode, 200, `the next valid request: ${res.body}`);
  assert.equal(await t.history.count(), before + 1, 'the next valid request is recorded');
}

/** A deterministic seed for fast-check, overridable with FUZZ_SEED to replay a failure. */
export function fuzzSeed(fallback: number): number {
  const env = process.env.FUZZ_SEED;
  return env === undefined || env === '' ? fallback : Number(env);
}
