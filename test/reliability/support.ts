/**
 * Shared by the reliability suites: PNG surgery (chunks, IHDR, corruption), the one error-shape
 * check, and a uniform view of responses from inject() and from raw sockets.
 */
import assert from 'node:assert/strict';
import type { TestApp } from '../helpers/build-app.js';
import { patternPng } from '../helpers/images.js';
import { predictForm } from '../helpers/multipart.js';

export { type Chunk, IEND, SIGNATURE, assemble, chunkOf, chunksOf, flipLast, ihdr } from '../helpers/png-bytes.js';

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
