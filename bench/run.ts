import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { chartSvg, writeChart } from './chart.js';
import { buildImageSets } from './images.js';
import { type LoadPhase, runLoadPhase } from './load-phase.js';
import { describeMachine } from './machine.js';
import { Monitor } from './monitor.js';
import { type OverloadResult, runOverload } from './overload.js';
import { type BenchPlan, PlanError, ROOT, loadPlan } from './plan.js';
import { measureRaw, unsteadyRaw } from './raw-baseline.js';
import { type BenchResults, formatReport } from './report.js';
import { type SweepResult, runSweep } from './sweep.js';
import { evaluateTargets } from './targets.js';

/*
 * npm run bench: raw ONNX Runtime → HTTP load on the production build → defaults sweep →
 * overload, then a report on stdout, bench/results/latest.json and bench/results/throughput.png.
 * Progress goes to stderr, so stdout holds only the report.
 */

const RESULTS = join(ROOT, 'bench/results');
const QUIET_LOAD = 0.5;
const PLACEHOLDER_BYTES = 1_000_000;

const progress = (line: string) => process.stderr.write(`${line}\n`);

function planOrExit(): BenchPlan {
  try {
    return loadPlan();
  } catch (err) {
    if (!(err instanceof PlanError)) throw err;
    process.stderr.write(`bench: ${err.message}\n`);
    process.exit(2);
  }
}

function fiveXxWarnings(load: LoadPhase, sweep: SweepResult, overload: OverloadResult): string[] {
  const cells = [...load.cells.map((c) => ({ where: `load ${c.set} c=${c.concurrency}`, c })), ...sweep.rows.flatMap((r) => [
    { where: `sweep ${r.name} c=${r.saturated.concurrency}`, c: r.saturated },
    { where: `sweep ${r.name} c=1`, c: r.alone },
  ])];
  const out = cells.filter(({ c }) => c.fiveXx > 0).map(({ where, c }) => `!!! ${c.fiveXx} 5xx responses in ${where}: ${JSON.stringify(c.statuses)}`);
  if (overload.fiveXxOther > 0) out.push(`!!! ${overload.fiveXxOther} 5xx other than 503 under overload: ${JSON.stringify(overload.statuses)}`);
  return out;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  // Written beside and renamed, so a reader never sees half a file.
  await writeFile(`${path}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

async function main(): Promise<void> {
  const started = performance.now();
  const plan = planOrExit();
  const machine = describeMachine(plan.modelPath);
  const warnings: string[] = [];
  if (plan.quick) warnings.push('BENCH_QUICK=1: a smoke test with short cells and a subset of settings; do not read the figures.');
  if (machine.loadAverage[0]! > QUIET_LOAD) warnings.push(`load average ${machine.loadAverage.join(' ')} at start: the machine is not quiet, figures are pessimistic.`);
  if (machine.model.bytes < PLACEHOLDER_BYTES) warnings.push(`the model is ${machine.model.bytes} bytes: a placeholder, not ResNet-18; the figures do not describe the real model.`);
  for (const w of warnings) progress(`WARNING: ${w}`);

  progress('1. raw ONNX Runtime (no server)');
  const raw = await measureRaw(plan, progress);
  for (const w of unsteadyRaw(raw)) {
    warnings.push(w);
    progress(`WARNING: ${w}`);
  }
  progress(`building ${plan.load.imagesPerSize} PNGs per size`);
  const sets = buildImageSets(plan.load.imagesPerSize);
  const small = sets.find((s) => s.name === '224')!;
  const monitor = new Monitor();
  let load: LoadPhase;
  let sweep: SweepResult;
  let overload: OverloadResult;
  try {
    progress('2. HTTP load, service defaults');
    load = await runLoadPhase(plan, sets, monitor, progress);
    progress('3. defaults sweep');
    sweep = await runSweep(plan, small, monitor, progress);
    progress('4. overload');
    overload = await runOverload(plan, small, monitor, progress);
  } finally {
    await monitor.close();
  }
  warnings.push(...fiveXxWarnings(load, sweep, overload));

  const results: BenchResults = {
    machine,
    plan,
    raw,
    load,
    sweep,
    overload,
    targets: evaluateTargets(raw, load, sweep, overload),
    warnings,
    durationSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  };
  await mkdir(RESULTS, { recursive: true });
  await writeJson(join(RESULTS, 'latest.json'), results);
  const subtitle = `${machine.date} · ${machine.cpuModel}, ${machine.cores} cores · model ${machine.model.sha256.slice(0, 12)} · service defaults${plan.quick ? ' · QUICK' : ''}`;
  await writeChart(join(RESULTS, 'throughput.png'), chartSvg(load.cells, raw.best.imgPerSec, subtitle));
  process.stdout.write(`${formatReport(results)}\n`);
  progress(`wrote ${join(RESULTS, 'latest.json')} and ${join(RESULTS, 'throughput.png')}`);
}

await main();
