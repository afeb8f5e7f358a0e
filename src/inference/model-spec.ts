import type { TensorSpec } from '../preprocess/types.js';
import type { OutputKind } from './postprocess.js';

/** What the service reads from a model to feed it and read it: the config that travels with it. */
export interface ModelSpec extends TensorSpec {
  inputName: string;
  outputName: string;
  outputKind: OutputKind;
  /** The batch size the model demands when its batch dimension is fixed; null when dynamic. */
  fixedBatch: number | null;
  labels: readonly [string, string];
  /** Where labels, mean and std came from. */
  source: { labels: 'model' | 'config'; normalization: 'model' | 'config' };
  description: string | undefined;
  trainingData: string | undefined;
}

/** The slice of ONNX Runtime's I/O metadata we use. */
export interface IoMeta {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: readonly (number | string)[];
}

export interface SpecFallbacks {
  labels: readonly [string, string];
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

export class ModelSpecError extends Error {
  override name = 'ModelSpecError';
}

const isFixed = (d: number | string | undefined): d is number => typeof d === 'number' && d > 0;

function parseList(raw: string | undefined): unknown[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (Array.isArray(parsed)) return parsed as unknown[];
  } catch {
    // Not JSON: accept a plain comma-separated list too.
  }
  return raw.split(',').map((s) => s.trim());
}

function metaTriple(raw: string | undefined, key: string): [number, number, number] | undefined {
  const list = parseList(raw);
  if (list === undefined) return undefined;
  const nums = list.map(Number);
  if (nums.length !== 3 || nums.some((n) => !Number.isFinite(n)) || (key === 'std' && nums.some((n) => n <= 0))) {
    throw new ModelSpecError(`model metadata '${key}' must hold three numbers${key === 'std' ? ' > 0' : ''}, got ${raw ?? ''}`);
  }
  return nums as [number, number, number];
}

function metaLabels(raw: string | undefined): [string, string] | undefined {
  const list = parseList(raw);
  if (list === undefined) return undefined;
  if (list.length !== 2 || list.some((l) => typeof l !== 'string' || l === '')) {
    throw new ModelSpecError(`model metadata 'labels' must hold two names, got ${raw ?? ''}`);
  }
  return list as [string, string];
}

/** A free-text metadata value, which exporters may store as a JSON string. */
function metaText(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  if (raw.startsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed === 'string') return parsed;
    } catch {
      // Not JSON after all: keep it as written.
    }
  }
  return raw;
}

function inputGeometry(shape: readonly (number | string)[]): { layout: 'NCHW' | 'NHWC'; height: number; width: number } {
  if (shape.length !== 4) throw new ModelSpecError(`model input must be 4-D (batch, channels, height, width), got [${shape.join(', ')}]`);
  const [, a, b, c] = shape;
  if (a === 3 && isFixed(b) && isFixed(c)) return { layout: 'NCHW', height: b, width: c };
  if (c === 3 && isFixed(a) && isFixed(b)) return { layout: 'NHWC', height: a, width: b };
  throw new ModelSpecError(`model input must have 3 channels and a fixed height and width (NCHW or NHWC), got [${shape.join(', ')}]`);
}

function outputKind(shape: readonly (number | string)[], producer: string): OutputKind {
  const width = shape.length === 2 ? shape[1] : undefined;
  const op = producer.toLowerCase();
  if (width === 2) return op === 'softmax' ? 'probs2' : 'logits2';
  if (width === 1) return op === 'sigmoid' ? 'prob1' : 'logit1';
  throw new ModelSpecError(`model output must be [N,2] (two classes) or [N,1] (leak score), got [${shape.join(', ')}]`);
}

/** Derives the spec from ONNX Runtime's metadata, the model's metadata_props and the configured fallbacks. */
export function resolveModelSpec(
  inputs: readonly IoMeta[],
  outputs: readonly IoMeta[],
  metadata: Readonly<Record<string, string>>,
  outputProducers: Readonly<Record<string, string>>,
  fallbacks: SpecFallbacks,
): ModelSpec {
  if (inputs.length !== 1) throw new ModelSpecError(`model must have exactly one input, has ${inputs.length}`);
  if (outputs.length < 1) throw new ModelSpecError('model has no output');
  const input = inputs[0]!;
  const output = outputs[0]!;
  if (!input.isTensor || input.type !== 'float32') throw new ModelSpecError(`model input '${input.name}' must be a float32 tensor`);
  if (!output.isTensor || output.type !== 'float32') throw new ModelSpecError(`model output '${output.name}' must be a float32 tensor`);
  const geometry = inputGeometry(input.shape ?? []);
  const kind = outputKind(output.shape ?? [], outputProducers[output.name] ?? '');
  const labels = metaLabels(metadata.labels);
  const mean = metaTriple(metadata.mean, 'mean');
  const std = metaTriple(metadata.std, 'std');
  const batchDim = input.shape?.[0];
  return {
    inputName: input.name,
    outputName: output.name,
    outputKind: kind,
    ...geometry,
    fixedBatch: isFixed(batchDim) ? batchDim : null,
    labels: labels ?? fallbacks.labels,
    mean: mean ?? fallbacks.mean,
    std: std ?? fallbacks.std,
    source: { labels: labels ? 'model' : 'config', normalization: mean && std ? 'model' : 'config' },
    description: metaText(metadata.description),
    trainingData: metaText(metadata.training_data),
  };
}
