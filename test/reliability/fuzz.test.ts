/**
 * Property-based fuzzing of the HTTP surface with fast-check, against the real app (tiny model,
 * real SQLite file):
 *   (a) mutated PNGs posted to /predict: never a 5xx; 200, or the JSON error shape with nothing
 *       recorded;
 *   (b) random multipart bodies (boundaries, part headers, names, filenames, types, noise, CRLF
 *       placement, truncation): never a 5xx, same invariants;
 *   (c) random query strings on /prediction_history: 200 with a complete JSON array, or a 400
 *       invalid_parameter error; never a 5xx, never a broken stream.
 *
 * FUZZ_RUNS sets the runs per property (default 200: about 6 s for the file, so `npm test` stays
 * quick; `FUZZ_RUNS=3000 npx tsx --test test/reliability/fuzz.test.ts` takes a couple of minutes).
 * Seeds are fixed, so runs are reproducible; FUZZ_SEED=<n> explores another sequence. A failure
 * prints its seed and path: replay it with FUZZ_SEED=<seed> FUZZ_PATH=<path>.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { deflateSync, inflateSync } from 'node:zlib';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { sensorIdProblem } from '../../src/policy/sensor-id.js';
import type { PredictionRecord } from '../../src/store/record.js';
import { crc32, encodePng, pngChunk } from '../../src/synth/png-encode.js';
import { type TestApp, build } from '../helpers/build-app.js';
import { patternPng } from '../helpers/images.js';
import { BOUNDARY, predictForm } from '../helpers/multipart.js';
import { fixtureModel } from '../helpers/paths.js';
import { IEND, type Reply, SIGNATURE, assemble, assertErrorShape, assertStillServes, chunksOf, fuzzSeed } from './support.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const REPLAY_PATH = process.env.FUZZ_PATH;
const MAX_IMAGE_PIXELS = 1_000_000;

let t: TestApp;
before(async () => {
  // A modest pixel cap keeps every decode small whatever IHDR the fuzzer writes.
  t = await build(undefined, {
    MODEL_PATH: fixtureModel('tiny-logits2.onnx'),
    MAX_UPLOAD_BYTES: String(64 * 1024),
    MAX_IMAGE_PIXELS: String(MAX_IMAGE_PIXELS),
    INFERENCE_THREADS: '1',
  });
});
after(async () => {
  await t.close();
});

/** Runs a property with a bounded number of runs and a fixed (overridable) seed; a failure names the seed. */
async function check<Ts extends [unknown, ...unknown[]]>(name: string, defaultSeed: number, property: fc.IAsyncPropertyWithHooks<Ts>): Promise<void> {
  const seed = fuzzSeed(defaultSeed);
  const params: fc.Parameters<Ts> = { numRuns: RUNS, seed };
  if (REPLAY_PATH) params.path = REPLAY_PATH;
  const details = await fc.check(property, params);
  if (details.failed) {
    const message = fc.defaultReportMessage(details) ?? 'failed';
    console.error(`[fuzz] ${name}: FAILED with seed ${seed}, path ${details.counterexamplePath ?? '?'}: replay with FUZZ_SEED=${seed} FUZZ_PATH=${details.counterexamplePath ?? ''}`);
    assert.fail(`${name} (seed ${seed}):\n${message}`);
  }
  console.error(`[fuzz] ${name}: ${details.numRuns} runs passed (seed ${seed})`);
}

const tally = (seen: Map<string, number>, key: string) => seen.set(key, (seen.get(key) ?? 0) + 1);
const summary = (seen: Map<string, number>) => [...seen].sort((a, b) => a[0].localeCompare(b[0])).map(([k, n]) => `${k}: ${n}`).join(', ');

const reply = (res: Awaited<ReturnType<TestApp['app']['inject']>>): Reply => ({ status: res.statusCode, headers: res.headers, body: res.body });

/** The invariants of any POST /predict: never 5xx; 200 records exactly one row, anything else none, in the error shape. */
async function postAndCheck(options: InjectOptions, accepted: number[]): Promise<{ status: number; code: string; record?: PredictionRecord }> {
  const before = await t.history.count();
  const res = await t.app.inject(options);
  const rows = await t.history.count();
  assert.ok(res.statusCode < 500, `5xx: ${res.statusCode} ${res.body}`);
  assert.ok(accepted.includes(res.statusCode), `unexpected status ${res.statusCode}: ${res.body}`);
  if (res.statusCode === 200) {
    assert.equal(rows, before + 1, 'a 200 records exactly one row');
    const record = res.json<PredictionRecord>();
    assert.ok(record.prediction === 'Leak' || record.prediction === 'Normal');
    assert.equal(sensorIdProblem(record.sensor_id), undefined, `stored sensor_id ${JSON.stringify(record.sensor_id)} breaks the sensor_id rule`);
    return { status: 200, code: 'ok', record };
  }
  assert.equal(rows, before, `a ${res.statusCode} must record nothing`);
  const err = assertErrorShape(reply(res));
  return { status: res.statusCode, code: err.code };
}

// ---------------------------------------------------------------------------------------------
// (a) Mutated PNGs

const upload = (png: Buffer): InjectOptions => ({ method: 'POST', url: '/predict', ...predictForm(png, 'fuzz') });

const CORPUS: Buffer[] = [
  patternPng(20, 14, 1),
  patternPng(9, 7, 2, { type: 'rgba', depth: 16 }),
  patternPng(17, 5, 3, { type: 'gray', depth: 1 }),
  patternPng(6, 6, 4, { type: 'gray', depth: 16 }),
  patternPng(8, 9, 5, { type: 'gray-alpha', depth: 8 }),
  patternPng(12, 10, 6, { type: 'palette', palette: new Uint8Array([0, 0, 0, 250, 10, 10, 10, 250, 10, 10, 10, 250]), alpha: new Uint8Array([0, 90]) }),
  encodePng({ width: 11, height: 13, colour: { type: 'rgb', depth: 8 }, samples: Array.from({ length: 11 * 13 * 3 }, (_, i) => (i * 37) % 256), interlace: true }),
  // With ancillary chunks, so that reordering and duplicating have more to work with.
  encodePng({ width: 10, height: 4, colour: { type: 'rgb', depth: 8 }, samples: Array.from({ length: 120 }, (_, i) => (i * 11) % 256) }, [
    pngChunk('gAMA', Buffer.from([0, 0, 0xb1, 0x8f])),
    pngChunk('tEXt', Buffer.from('Comment\0fuzz')),
    pngChunk('zTXt', Buffer.concat([Buffer.from('Title\0\0'), deflateSync(Buffer.from('compressed text'))])),
  ]),
];

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'swapChunks'; a: number; b: number }
  | { kind: 'duplicateChunk'; index: number }
  | { kind: 'dropChunk'; index: number }
  | { kind: 'chunkLength'; index: number; length: number }
  | { kind: 'insertChunk'; index: number; type: string; data: Uint8Array }
  | { kind: 'ihdr'; width: number; height: number; depth: number; colour: number; compression: number; filter: number; interlace: number }
  | { kind: 'pixels'; at: number; value: number; extra: number; cut: number };

const dimension = fc.oneof(
  fc.integer({ min: 0, max: 64 }),
  fc.constantFrom(0, 1, 999, 1000, 1001, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 60_000, 100_000),
  fc.nat({ max: 2 ** 32 - 1 }),
);
const chunkType = fc.oneof(
  fc.constantFrom('IHDR', 'PLTE', 'IDAT', 'IEND', 'tRNS', 'acTL', 'fcTL', 'fdAT', 'iCCP', 'zTXt', 'iTXt', 'tEXt', 'gAMA', 'sRGB', 'eXIf', 'ABCD', 'abcd'),
  fc.string({ unit: 'binary-ascii', minLength: 4, maxLength: 4 }),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(0, 0xff, 0x7f, 0x80), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swapChunks' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('duplicateChunk' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('dropChunk' as const), index: fc.nat() }),
  fc.record({
    kind: fc.constant('chunkLength' as const), index: fc.nat(),
    length: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(0x7fffffff, 0x80000000, 0xffffffff, 0xfffffff0), fc.nat({ max: 2 ** 32 - 1 })),
  }),
  fc.record({ kind: fc.constant('insertChunk' as const), index: fc.nat(), type: chunkType, data: fc.uint8Array({ maxLength: 48 }) }),
  fc.record({
    kind: fc.constant('ihdr' as const), width: dimension, height: dimension,
    depth: fc.oneof(fc.constantFrom(1, 2, 4, 8, 16), fc.integer({ min: 0, max: 255 })),
    colour: fc.oneof(fc.constantFrom(0, 2, 3, 4, 6), fc.integer({ min: 0, max: 255 })),
    compression: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })),
    filter: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })),
    interlace: fc.oneof(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 255 })),
  }),
  // Rewrites the inflated image data (a filter byte or sample, extra or missing rows) and deflates it again.
  fc.record({ kind: fc.constant('pixels' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }), extra: fc.integer({ min: 0, max: 4096 }), cut: fc.integer({ min: 0, max: 64 }) }),
);

/** Applies one mutation; chunk-level ones work on the chunks that still parse. */
function mutate(png: Buffer, m: Mutation): Buffer {
  const at = (n: number) => (png.length === 0 ? 0 : n % (png.length + 1));
  const chunks = () => chunksOf(png);
  const rebuild = (parts: Buffer[]) => assemble(...parts);
  switch (m.kind) {
    case 'flip': {
      if (png.length === 0) return png;
      const copy = Buffer.from(png);
      copy[m.at % copy.length]! ^= 1 << m.bit;
      return copy;
    }
    case 'set': {
      if (png.length === 0) return png;
      const copy = Buffer.from(png);
      copy[m.at % copy.length] = m.value;
      return copy;
    }
    case 'insert':
      return Buffer.concat([png.subarray(0, at(m.at)), m.bytes, png.subarray(at(m.at))]);
    case 'delete':
      return Buffer.concat([png.subarray(0, at(m.at)), png.subarray(at(m.at) + m.length)]);
    case 'truncate':
      return png.subarray(0, at(m.at));
    case 'swapChunks': {
      const cs = chunks().map((c) => c.bytes);
      if (cs.length < 2) return png;
      const a = m.a % cs.length;
      const b = m.b % cs.length;
      [cs[a], cs[b]] = [cs[b]!, cs[a]!];
      return rebuild(cs);
    }
    case 'duplicateChunk': {
      const cs = chunks().map((c) => c.bytes);
      if (cs.length === 0) return png;
      const i = m.index % cs.length;
      cs.splice(i, 0, cs[i]!);
      return rebuild(cs);
    }
    case 'dropChunk': {
      const cs = chunks().map((c) => c.bytes);
      if (cs.length === 0) return png;
      cs.splice(m.index % cs.length, 1);
      return rebuild(cs);
    }
    case 'chunkLength': {
      const cs = chunks();
      if (cs.length === 0) return png;
      const c = cs[m.index % cs.length]!;
      const copy = Buffer.from(png);
      copy.writeUInt32BE(m.length >>> 0, c.bytes.byteOffset - png.byteOffset);
      return copy;
    }
    case 'insertChunk': {
      const cs = chunks().map((c) => c.bytes);
      cs.splice(m.index % (cs.length + 1), 0, pngChunk(m.type, m.data));
      return rebuild(cs);
    }
    case 'ihdr': {
      const cs = chunks();
      const i = cs.findIndex((c) => c.type === 'IHDR');
      if (i < 0) return png;
      const data = Buffer.alloc(13);
      data.writeUInt32BE(m.width >>> 0, 0);
      data.writeUInt32BE(m.height >>> 0, 4);
      data.set([m.depth, m.colour, m.compression, m.filter, m.interlace], 8);
      const parts = cs.map((c) => c.bytes);
      parts[i] = pngChunk('IHDR', data);
      return rebuild(parts);
    }
    case 'pixels': {
      const cs = chunks();
      const idats = cs.filter((c) => c.type === 'IDAT');
      if (idats.length === 0) return png;
      let raw: Buffer;
      try {
        raw = inflateSync(Buffer.concat(idats.map((c) => c.data)));
      } catch {
        return png;
      }
      const changed = Buffer.concat([raw.subarray(0, Math.max(0, raw.length - m.cut)), Buffer.alloc(m.extra)]);
      if (changed.length > 0) changed[m.at % changed.length] = m.value;
      const idat = pngChunk('IDAT', deflateSync(changed));
      const parts: Buffer[] = [];
      let placed = false;
      for (const c of cs) {
        if (c.type !== 'IDAT') parts.push(c.bytes);
        else if (!placed) {
          parts.push(idat);
          placed = true;
        }
      }
      return rebuild(parts);
    }
  }
}

/** Recomputes every parseable chunk's CRC, so that mutations reach past the CRC checks. */
function fixCrcs(png: Buffer): Buffer {
  if (png.length < 8 || !png.subarray(0, 8).equals(SIGNATURE)) return png;
  const copy = Buffer.from(png);
  for (const c of chunksOf(copy)) {
    const offset = c.bytes.byteOffset - copy.byteOffset;
    copy.writeUInt32BE(crc32(copy.subarray(offset + 4, offset + 8 + c.data.length)), offset + 8 + c.data.length);
  }
  return copy;
}

describe('fuzz: mutated PNGs on POST /predict', () => {
  it(`never a 5xx; 200 or the JSON error shape, and nothing recorded on an error (${RUNS} runs)`, async () => {
    const seen = new Map<string, number>();
    await check('mutated PNGs', 0x5eed_0001, fc.asyncProperty(
      fc.integer({ min: 0, max: CORPUS.length - 1 }),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      fc.boolean(),
      async (which, mutations, recomputeCrcs) => {
        let png = CORPUS[which]!;
        for (const m of mutations) png = mutate(png, m);
        if (recomputeCrcs) png = fixCrcs(png);
        const { status, code, record } = await postAndCheck(upload(png), [200, 400, 413, 415, 422]);
        tally(seen, `${status} ${code}`);
        if (record) {
          assert.equal(record.image_sha256, createHash('sha256').update(png).digest('hex'), 'the hash is of the bytes sent');
          assert.ok(record.image_width * record.image_height <= MAX_IMAGE_PIXELS);
        }
      },
    ));
    console.error(`[fuzz] mutated PNGs: statuses ${summary(seen)}`);
    await assertStillServes(t, 1);
  });
});


// ---------------------------------------------------------------------------------------------
// (b) Random multipart bodies

const GOOD_PNG = patternPng(12, 8, 9);
const bchar = fc.constantFrom(...Array.from('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\'()+_,-./:=? '));
const boundary = fc.oneof(
  { weight: 3, arbitrary: fc.constant(BOUNDARY) },
  { weight: 3, arbitrary: fc.stringMatching(/^[0-9A-Za-z_-]{1,70}$/) },
  { weight: 1, arbitrary: fc.array(bchar, { minLength: 1, maxLength: 70 }).map((cs) => cs.join('').trimEnd() || 'x') },
  { weight: 1, arbitrary: fc.string({ maxLength: 90 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '-', '--', '"', 'a"b', 'a;b', '\u00e9t\u00e9') },
);
const text = (maxLength: number) => fc.oneof(fc.string({ maxLength }), fc.string({ unit: 'binary', maxLength }), fc.string({ unit: 'binary-ascii', maxLength }));
const fieldName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('file', 'sensor_id') },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'prediction', 'id', 'File', 'sensor_id ', '') },
  { weight: 1, arbitrary: text(20) },
);
const partBody = fc.oneof(
  { weight: 3, arbitrary: fc.constant(GOOD_PNG) },
  { weight: 2, arbitrary: fc.constantFrom('sensor-1', 'cam_7', "' OR 1=1--", 'a\r\nb', '', ' x ').map((s) => Buffer.from(s)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: text(40).map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.nat().map((n) => Buffer.concat([GOOD_PNG.subarray(0, n % GOOD_PNG.length), Buffer.from(`\r\n--${BOUNDARY}`), GOOD_PNG.subarray(n % GOOD_PNG.length)])) },
);
const part = fc.record({
  name: fieldName,
  quoteName: fc.boolean(),
  disposition: fc.oneof({ weight: 6, arbitrary: fc.constant('form-data') }, { weight: 1, arbitrary: fc.constantFrom('attachment', 'inline', 'FORM-DATA', '') }),
  filename: fc.option(fc.oneof({ weight: 3, arbitrary: fc.constantFrom('frame.png', '../../etc/passwd%00.png', '', 'a"b.png', 'x\\y.png') }, { weight: 1, arbitrary: text(30) }), { freq: 2 }),
  contentType: fc.option(fc.oneof(fc.constantFrom('image/png', 'text/plain; charset=utf-8', 'application/octet-stream', 'text/plain; charset=utf-16le'), text(30)), { freq: 2 }),
  extraHeaders: fc.oneof(
    { weight: 4, arbitrary: fc.constant([] as [string, string][]) },
    { weight: 1, arbitrary: fc.array(fc.tuple(fc.oneof(fc.stringMatching(/^[A-Za-z-]{1,12}$/), text(12)), text(30)), { minLength: 1, maxLength: 3 }) },
  ),
  dispositionLast: fc.boolean(),
  body: partBody,
});
/** null six times in seven. (fc.option's `freq` is the other way round: null once in `freq`.) */
const rarely = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
const multipartCase = fc.record({
  boundary,
  contentType: fc.oneof(
    { weight: 12, arbitrary: fc.constant('multipart/form-data; boundary=%B') },
    { weight: 1, arbitrary: fc.constantFrom('multipart/form-data; boundary="%B"', 'MULTIPART/FORM-DATA; BOUNDARY=%B', 'multipart/form-data; charset=utf-8; boundary=%B', 'multipart/form-data', 'multipart/form-data; boundary=%B; boundary=other', 'multipart/mixed; boundary=%B', 'application/json', 'text/plain', 'application/x-www-form-urlencoded') },
    { weight: 1, arbitrary: text(40) },
  ),
  parts: fc.array(part, { maxLength: 5 }),
  /** Usually the valid form comes along too, so that some bodies are accepted. */
  withValidForm: fc.boolean(),
  lineEnding: fc.oneof({ weight: 8, arbitrary: fc.constant('\r\n') }, { weight: 1, arbitrary: fc.constantFrom('\n', '\r', '\n\r') }),
  preamble: rarely(fc.uint8Array({ maxLength: 64 })),
  closing: fc.oneof({ weight: 8, arbitrary: fc.constant('proper') }, { weight: 1, arbitrary: fc.constantFrom('missing', 'no-crlf', 'dashes-only', 'extra-dashes') }),
  epilogue: rarely(fc.uint8Array({ maxLength: 64 })),
  crlfAt: rarely(fc.array(fc.nat(), { minLength: 1, maxLength: 2 })),
  truncateAt: rarely(fc.nat()),
  chunked: fc.boolean(),
});
type MultipartCase = typeof multipartCase extends fc.Arbitrary<infer T> ? T : never;

/** Printable ASCII only: inject() (like Node) refuses control characters in header values. */
const headerSafe = (s: string) => s.replace(/[^\x20-\x7e]/g, '');

function multipartRequest(c: MultipartCase): InjectOptions {
  const nl = c.lineEnding;
  const pieces: Buffer[] = [];
  if (c.preamble) pieces.push(Buffer.from(c.preamble), Buffer.from(nl));
  const parts = [...c.parts];
  if (c.withValidForm) {
    parts.push(
      { name: 'file', quoteName: true, disposition: 'form-data', filename: 'frame.png', contentType: 'image/png', extraHeaders: [], dispositionLast: false, body: GOOD_PNG },
      { name: 'sensor_id', quoteName: true, disposition: 'form-data', filename: null, contentType: null, extraHeaders: [], dispositionLast: false, body: Buffer.from('fuzz-multipart') },
    );
  }
  for (const p of parts) {
    const name = p.quoteName ? `"${p.name}"` : p.name;
    const disposition = `Content-Disposition: ${p.disposition}; name=${name}${p.filename === null ? '' : `; filename="${p.filename}"`}`;
    const headers = [
      ...(p.contentType === null ? [] : [`Content-Type: ${p.contentType}`]),
      ...p.extraHeaders.map(([k, v]) => `${k}: ${v}`),
    ];
    if (p.dispositionLast) headers.push(disposition);
    else headers.unshift(disposition);
    pieces.push(Buffer.from(`--${c.boundary}${nl}${headers.join(nl)}${nl}${nl}`), p.body, Buffer.from(nl));
  }
  const closing = { proper: `--${c.boundary}--${nl}`, missing: '', 'no-crlf': `--${c.boundary}--`, 'dashes-only': '--', 'extra-dashes': `--${c.boundary}----${nl}` }[c.closing];
  pieces.push(Buffer.from(closing));
  if (c.epilogue) pieces.push(Buffer.from(c.epilogue));
  let body = Buffer.concat(pieces);
  for (const at of c.crlfAt ?? []) {
    const i = at % (body.length + 1);
    body = Buffer.concat([body.subarray(0, i), Buffer.from('\r\n'), body.subarray(i)]);
  }
  if (c.truncateAt !== null) body = body.subarray(0, c.truncateAt % (body.length + 1));
  const headers: Record<string, string> = { 'content-type': headerSafe(c.contentType.replaceAll('%B', c.boundary)) };
  if (c.chunked) headers['transfer-encoding'] = 'chunked';
  return { method: 'POST', url: '/predict', payload: body, headers };
}

describe('fuzz: random multipart bodies on POST /predict', () => {
  it(`never a 5xx; 200 or the JSON error shape, and nothing recorded on an error (${RUNS} runs)`, async () => {
    const seen = new Map<string, number>();
    await check('multipart bodies', 0x5eed_0002, fc.asyncProperty(multipartCase, async (c) => {
      const { status, code } = await postAndCheck(multipartRequest(c), [200, 400, 413, 415, 422]);
      tally(seen, `${status} ${code}`);
    }));
    console.error(`[fuzz] multipart bodies: statuses ${summary(seen)}`);
    await assertStillServes(t, 2);
  });
});

// ---------------------------------------------------------------------------------------------
// (c) Random query strings

const KNOWN_KEYS = ['sensor_id', 'prediction', 'severity', 'since', 'until', 'limit'];
const queryKey = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...KNOWN_KEYS) },
  { weight: 1, arbitrary: fc.constantFrom('offset', 'cursor', '__proto__', 'constructor', 'sensor_id[]', 'limit[]', '__proto__[limit]', 'LIMIT', '') },
  { weight: 1, arbitrary: text(10) },
);
const isoish = fc.tuple(
  fc.integer({ min: -1, max: 10_000 }), fc.integer({ min: -1, max: 14 }), fc.integer({ min: -1, max: 32 }),
  fc.option(fc.tuple(fc.integer({ min: -1, max: 25 }), fc.integer({ min: -1, max: 61 }), fc.option(fc.integer({ min: -1, max: 61 })), fc.option(fc.nat({ max: 999_999_999 })))),
  fc.constantFrom('', 'Z', '+00:00', '-05:30', '+2400', '+25:00', 'z', ' UTC'),
).map(([y, mo, d, time, zone]) => {
  const p = (n: number, w = 2) => (n < 0 ? String(n) : String(n).padStart(w, '0'));
  let s = `${p(y, 4)}-${p(mo)}-${p(d)}`;
  if (time) {
    const [h, mi, sec, frac] = time;
    s += `T${p(h)}:${p(mi)}${sec === null ? '' : `:${p(sec)}${frac === null ? '' : `.${frac}`}`}`;
  }
  return s + zone;
});
const numberish = fc.oneof(
  fc.integer().map(String),
  fc.bigInt().map(String),
  fc.double().map(String),
  fc.constantFrom('Infinity', '-Infinity', 'NaN', '1e400', '-1e400', '1e20', '9007199254740993', '9223372036854775808', '0x10', '0b11', '1e3', '+5', ' 5', '5 ', '05', '1_000', '', ' ', 'true', 'null', '[]', '{}'),
);
const queryValue = fc.oneof(
  numberish,
  fc.constantFrom('Leak', 'Normal', 'none', 'low', 'high', 'sensor-1', "' OR 1=1--", '%', '%%', '\u0000', '<script>', '..%2F..'),
  isoish,
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  text(30),
);
const encoding = fc.constantFrom('component', 'component', 'raw', 'bytes');
const queryPair = fc.oneof(
  { weight: 3, arbitrary: fc.record({ key: queryKey, value: queryValue, encoding }) },
  // Numbers where numbers are parsed: Ajv's coercion is where the surprises were.
  { weight: 1, arbitrary: fc.record({ key: fc.constant('limit'), value: numberish, encoding }) },
);
/** Often a single parameter, so that one bad value is not hidden behind another one's 400. */
const queryCase = fc.oneof(fc.array(queryPair, { maxLength: 1 }), fc.array(queryPair, { maxLength: 6 }));

/** `component`: encodeURIComponent; `raw`: as typed, minus what cannot be in a request line; `bytes`: every UTF-8 byte as %XX, sometimes cut mid-character. */
function encodeQueryPart(s: string, encoding: string): string {
  if (encoding === 'component') return encodeURIComponent(s);
  if (encoding === 'raw') return s.replace(/[^\x21-\x7e]|#/g, '');
  const hex = [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  return hex.length > 3 && s.length % 3 === 0 ? hex.slice(0, -3) : hex;
}

describe('fuzz: random query strings on GET /prediction_history', () => {
  before(async () => {
    for (let i = 0; i < 3; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/predict', ...predictForm(patternPng(8, 8, 40 + i), `query-${i}`) });
      assert.equal(res.statusCode, 200);
    }
  });

  it(`200 with a complete JSON array, or a 400 invalid_parameter error; never a 5xx or a broken stream (${RUNS} runs)`, async () => {
    const seen = new Map<string, number>();
    await check('query strings', 0x5eed_0003, fc.asyncProperty(queryCase, async (pairs) => {
      const qs = pairs.map(({ key, value, encoding }) => `${encodeQueryPart(key, encoding)}=${encodeQueryPart(value, encoding)}`).join('&');
      const before = await t.history.count();
      const res = await t.app.inject({ method: 'GET', url: `/prediction_history${qs ? `?${qs}` : ''}` });
      assert.ok(res.statusCode === 200 || res.statusCode === 400, `?${qs} → ${res.statusCode} ${res.body.slice(0, 300)}`);
      tally(seen, String(res.statusCode));
      assert.match(String(res.headers['content-type']), /^application\/json/);
      if (res.statusCode === 200) {
        const rows = res.json<unknown>();
        assert.ok(Array.isArray(rows), `?${qs}: not an array`);
        assert.ok(rows.length <= before);
      } else {
        assertErrorShape(reply(res), 'invalid_parameter');
      }
      assert.equal(await t.history.count(), before);
    }));
    console.error(`[fuzz] query strings: statuses ${summary(seen)}`);
    await assertStillServes(t, 3);
  });
});

// Keep the corpus honest: every seed image is accepted as it is.
describe('fuzz: the corpus', () => {
  it('every corpus image is a valid PNG (200)', async () => {
    for (const png of [...CORPUS, GOOD_PNG, assemble(...chunksOf(GOOD_PNG).map((c) => c.bytes).filter((b) => !b.equals(IEND)))]) {
      const { status } = await postAndCheck(upload(png), [200]);
      assert.equal(status, 200);
    }
  });
});
