import { parseArgs } from 'node:util';
import { writeDataset } from './dataset.js';

const USAGE = 'usage: npm run synth -- --out DIR --count N --seed S [--start I]';

function intOption(value: string | undefined, name: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      count: { type: 'string' },
      seed: { type: 'string' },
      start: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  if (!values.out || !values.count || values.seed === undefined) throw new Error(USAGE);
  const count = intOption(values.count, 'count');
  const seed = intOption(values.seed, 'seed');
  const start = intOption(values.start, 'start', 0);
  const began = Date.now();
  const every = Math.max(1, Math.floor(count / 20));
  await writeDataset({
    out: values.out, count, seed, start,
    onProgress: (done) => {
      if (!values.quiet && process.stderr.isTTY && (done % every === 0 || done === count)) process.stderr.write(`\r${done}/${count}`);
    },
  });
  if (!values.quiet) process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}wrote ${count} images to ${values.out} in ${((Date.now() - began) / 1000).toFixed(1)} s\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
