import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readOnnxFacts } from './onnx-proto.js';
import { type ModelSpec, ModelSpecError, type SpecFallbacks, resolveModelSpec } from './model-spec.js';
import { type OnnxSession, openOnnxSession } from './onnx-runtime.js';
import type { SessionThreads } from './threads.js';

export interface LoadedModel {
  path: string;
  sha256: string;
  sizeBytes: number;
  spec: ModelSpec;
  metadata: Readonly<Record<string, string>>;
  session: OnnxSession;
}

/** A model that cannot be served; its message is one line naming the path and the fix. */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

const FIX = 'Set MODEL_PATH (or --model-path) to an ONNX classifier, or restore the default model with `git checkout models/`.';

async function readModelFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : `unreadable (${code ?? 'unknown error'})`;
    throw new ModelLoadError(`cannot load model ${path}: ${reason}. ${FIX}`);
  }
}

export async function loadModel(modelPath: string, fallbacks: SpecFallbacks, threads: SessionThreads): Promise<LoadedModel> {
  const path = resolve(modelPath);
  const bytes = await readModelFile(path);
  let facts;
  let session: OnnxSession;
  try {
    facts = readOnnxFacts(bytes);
    session = await openOnnxSession(bytes, threads);
  } catch (err) {
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ModelLoadError(`cannot load model ${path}: not a valid ONNX model (${detail}). ${FIX}`);
  }
  try {
    const spec = resolveModelSpec(session.inputs, session.outputs, facts.metadata, facts.outputProducers, fallbacks);
    return {
      path,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      sizeBytes: bytes.length,
      spec,
      metadata: facts.metadata,
      session,
    };
  } catch (err) {
    await session.release();
    if (err instanceof ModelSpecError) throw new ModelLoadError(`cannot serve model ${path}: ${err.message}. ${FIX}`);
    throw err;
  }
}
