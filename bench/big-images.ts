import { resolve } from 'node:path';
import { deflateSync } from 'node:zlib';
import { pngChunk } from '../src/synth/png-encode.js';
import { predictForm } from '../test/helpers/multipart.js';
import { IEND, assemble, ihdr } from '../test/helpers/png-bytes.js';
import { ROOT } from './plan.js';
import { vmRssKb } from './proc.js';
import { startServer } from './server-process.js';

/*
 * npm run bench:big-images: memory under the largest uploads the defaults accept. BIG_CLIENTS
 * (default 20) clients post at once a PNG of BIG_SIDE × BIG_SIDE (default 6300: 39.7 Mpx, under
 * MAX_IMAGE_PIXELS) in 16-bit RGBA, the colour type that decodes to the most bytes (320 MB), but
 * compressed to 0.3 MB, so the upload limit does not stop it. The server's RSS is sampled every
 * 20 ms; the figure that matters is the peak, against the Kubernetes manifest's 1 GiB limit.
 */

const SIDE = Number(process.env.BIG_SIDE ?? 6300);
const CLIENTS = Number(process.env.BIG_CLIENTS ?? 20);
const LIMIT_MB = 1024;

function flatRgba16Png(side: number): Buffer {
  const row = Buffer.alloc(1 + side * 8, 0x40);
  row[0] = 0; // filter: none
  const rows = Buffer.alloc(row.length * side);
  for (let y = 0; y < side; y++) row.copy(rows, y * row.length);
  return assemble(ihdr(side, side, 16, 6), pngChunk('IDAT', deflateSync(rows, { level: 9 })), IEND);
}

const png = flatRgba16Png(SIDE);
const server = await startServer(resolve(ROOT, process.env.MODEL_PATH ?? 'models/resnet18_binary_finetuned.onnx'));
const rssMb = () => (vmRssKb(server.pid) ?? 0) / 1024;
try {
  const idle = rssMb();
  let peak = idle;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 20);
  const started = Date.now();
  const statuses = await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => {
    const { payload, headers } = predictForm(png, `big-${i}`);
    const res = await fetch(`${server.url}/predict`, { method: 'POST', body: payload, headers });
    await res.arrayBuffer();
    return res.status;
  }));
  clearInterval(sampler);
  const seconds = (Date.now() - started) / 1000;
  const counts = statuses.reduce<Record<number, number>>((m, s) => ({ ...m, [s]: (m[s] ?? 0) + 1 }), {});
  console.log(`${CLIENTS} clients × ${SIDE}×${SIDE} 16-bit RGBA PNG (${(png.length / 1e6).toFixed(2)} MB upload, ${((SIDE * SIDE * 8) / 1e6).toFixed(0)} MB decoded)`);
  console.log(`  statuses ${JSON.stringify(counts)} in ${seconds.toFixed(1)} s`);
  console.log(`  RSS idle ${idle.toFixed(0)} MB → peak ${peak.toFixed(0)} MB → after ${rssMb().toFixed(0)} MB (limit ${LIMIT_MB} MB: ${peak <= LIMIT_MB ? 'under' : 'OVER'})`);
  if (peak > LIMIT_MB || statuses.some((s) => s >= 500)) process.exitCode = 1;
} finally {
  await server.stop();
}
