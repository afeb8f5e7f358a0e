import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './plan.js';

/** Where the figures come from: they mean little without the machine and the model. */
export interface MachineInfo {
  date: string;
  cpuModel: string;
  cores: number;
  avx2: boolean;
  memoryGb: number;
  nodeVersion: string;
  ortVersion: string;
  /** 1, 5, 15-minute load averages at the start: above ~0.5 the machine was not quiet. */
  loadAverage: number[];
  model: { path: string; sha256: string; bytes: number };
}

function ortVersion(): string {
  // Read, not imported: only src/inference/onnx-runtime.ts may import onnxruntime-node.
  const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules/onnxruntime-node/package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

function hasAvx2(): boolean {
  try {
    return /^flags\s*:.*\bavx2\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

export function describeMachine(modelPath: string): MachineInfo {
  const model = readFileSync(modelPath);
  return {
    date: new Date().toISOString(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    avx2: hasAvx2(),
    memoryGb: Math.round(totalmem() / 2 ** 30),
    nodeVersion: process.version,
    ortVersion: ortVersion(),
    loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
    model: { path: modelPath, sha256: createHash('sha256').update(model).digest('hex'), bytes: model.length },
  };
}
