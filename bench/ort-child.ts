import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { loadConfig, specFallbacks } from '../src/config.js';
import { decodePng } from '../src/image/decode-png.js';
import { type ModelSpec, resolveModelSpec } from '../src/inference/model-spec.js';
import { readOnnxFacts } from '../src/inference/onnx-proto.js';
import { type OnnxSession, openOnnxSession } from '../src/inference/onnx-runtime.js';
import { preprocess, sampleLength } from '../src/preprocess/index.js';
import { patternPng } from '../test/helpers/images.js';
import type { DecodeTiming, FromOrt, ToOrt } from './ort-protocol.js';
import { median } from './stats.js';

/*
 * A child process that owns one ONNX Runtime session, driven by the bench over IPC, so that the
 * raw measurements run without the server, and two of them can run side by side in lock-step.
 * It goes through the service's own onnx-runtime.ts, model spec and preprocessing.
 */

let session: OnnxSession | undefined;
let spec: ModelSpec | undefined;
let threads = 0;
const inputs = new Map<number, Float32Array>();

const send = (msg: FromOrt) => process.send?.(msg);

function open(): { session: OnnxSession; spec: ModelSpec } {
  if (!session || !spec) throw new Error('no session: send open first');
  return { session, spec };
}

function inputFor(batch: number, s: ModelSpec): Float32Array {
  let data = inputs.get(batch);
  if (!data) {
    // Values in the range a normalized image has; ORT's CPU kernels do not depend on them.
    data = Float32Array.from({ length: batch * sampleLength(s) }, (_, i) => Math.sin(i * 0.37) * 2);
    inputs.set(batch, data);
  }
  return data;
}

async function runOnce(batch: number): Promise<number> {
  const { session: sess, spec: s } = open();
  const dims = s.layout === 'NCHW' ? [batch, 3, s.height, s.width] : [batch, s.height, s.width, 3];
  const started = performance.now();
  await sess.run(s.inputName, inputFor(batch, s), dims, s.outputName);
  return performance.now() - started;
}

async function timeRuns(batch: number, seconds: number): Promise<FromOrt> {
  const times: number[] = [];
  const started = performance.now();
  while (performance.now() - started < seconds * 1000 || times.length < 3) times.push(await runOnce(batch));
  const elapsed = (performance.now() - started) / 1000;
  return { type: 'ran', run: { threads, batch, runs: times.length, msPerBatch: median(times), imgPerSec: (batch * times.length) / elapsed } };
}

async function timeDecode(iterations: number, sizes: readonly (readonly [number, number])[]): Promise<DecodeTiming[]> {
  const { spec: s } = open();
  const limits = { maxPixels: 40_000_000 };
  const out: DecodeTiming[] = [];
  for (const [width, height] of sizes) {
    const pngs = Array.from({ length: 4 }, (_, i) => patternPng(width, height, 7000 + i));
    const decode: number[] = [];
    const prep: number[] = [];
    for (let i = -3; i < iterations; i++) {
      const t0 = performance.now();
      const raw = await decodePng(pngs[(i + 3) % pngs.length]!, limits);
      const t1 = performance.now();
      preprocess(raw, s);
      const t2 = performance.now();
      if (i < 0) continue; // warm-up
      decode.push(t1 - t0);
      prep.push(t2 - t1);
    }
    const totals = decode.map((d, i) => d + prep[i]!);
    out.push({ width, height, decodeMs: median(decode), preprocessMs: median(prep), totalMs: median(totals) });
  }
  return out;
}

async function handle(msg: ToOrt): Promise<FromOrt | undefined> {
  switch (msg.type) {
    case 'open': {
      const bytes = await readFile(msg.modelPath);
      const facts = readOnnxFacts(bytes);
      await session?.release();
      session = await openOnnxSession(bytes, { intraOpThreads: msg.threads, spinning: msg.spinning });
      threads = msg.threads;
      const config = loadConfig({}, {});
      const fallbacks = specFallbacks(config);
      spec = resolveModelSpec(session.inputs, session.outputs, facts.metadata, facts.outputProducers, fallbacks);
      return { type: 'opened', fixedBatch: spec.fixedBatch, input: `${spec.layout} ${spec.height}x${spec.width}` };
    }
    case 'warm':
      for (let i = 0; i < msg.runs; i++) await runOnce(msg.batch);
      return { type: 'warmed' };
    case 'run':
      return timeRuns(msg.batch, msg.seconds);
    case 'decode':
      return { type: 'decoded', timings: await timeDecode(msg.iterations, msg.sizes) };
    case 'exit':
      await session?.release();
      process.disconnect();
      return undefined;
  }
}

process.on('message', (raw: unknown) => {
  handle(raw as ToOrt).then(
    (reply) => reply && send(reply),
    (err: unknown) => send({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
  );
});
