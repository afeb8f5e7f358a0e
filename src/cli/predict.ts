import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { SingleBar, Presets } from 'cli-progress';
import type { Config } from '../config.js';
import { ApiError, Errors } from '../errors.js';
import { InferenceError, startClassifier } from '../inference/classifier.js';
import { classifierOptions } from '../server.js';
import { classifyDeps, classifyUpload } from '../service/classify-upload.js';
import { fail } from './options.js';
import { oneLine } from './one-line.js';

type Line = Record<string, unknown>;

const PROGRESS_MIN_FILES = 10;

class NotRegularFile extends Error {}

/**
 * Reads a file as the API reads an upload: at most `limit` bytes. A device or FIFO would never end (or never
 * start), so only regular files are read; the limit also holds while reading, as a file can grow after fstat
 * (and /proc files report a size of 0). Directories fail on read, with EISDIR, as before.
 */
async function readLimited(file: string, limit: number): Promise<Buffer> {
  // O_NONBLOCK: opening a FIFO with no writer returns at once instead of blocking a thread for ever.
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = await handle.stat();
    if (!stat.isFile() && !stat.isDirectory()) throw new NotRegularFile();
    if (stat.isFile() && stat.size > limit) throw Errors.uploadTooLarge(limit);
    let buf = Buffer.allocUnsafe(Math.min(stat.size, limit) + 1);
    let length = 0;
    for (;;) {
      if (length === buf.length) {
        if (length > limit) throw Errors.uploadTooLarge(limit);
        const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, limit + 1));
        buf.copy(bigger, 0, 0, length);
        buf = bigger;
      }
      const { bytesRead } = await handle.read(buf, length, buf.length - length, null);
      if (bytesRead === 0) return buf.subarray(0, length);
      length += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/** Classifies files through the service's pipeline, in order, several in flight so batching applies. */
export async function runPredict(files: string[], config: Config): Promise<void> {
  let classifier;
  try {
    classifier = await startClassifier(classifierOptions(config));
  } catch (err) {
    fail(oneLine(err, config));
  }
  const deps = classifyDeps(config, classifier);
  const classifyFile = async (file: string): Promise<Line> => {
    try {
      const c = await classifyUpload(await readLimited(file, config.maxUploadBytes), deps);
      return {
        file, prediction: c.label, confidence: c.confidence, severity: c.severity, p_leak: c.probabilities[1],
        image_sha256: c.image.sha256, image_width: c.image.width, image_height: c.image.height,
      };
    } catch (err) {
      const e = err instanceof ApiError ? err : err instanceof InferenceError ? Errors.inferenceFailed() : null;
      if (e) return { file, error: { code: e.code, message: e.message } };
      if (err instanceof NotRegularFile) return { file, error: { code: 'unreadable_file', message: `cannot read ${file} (not a regular file)` } };
      const errno = (err as NodeJS.ErrnoException).code;
      if (errno) return { file, error: { code: 'unreadable_file', message: `cannot read ${file} (${errno})` } };
      throw err;
    }
  };

  const bar = process.stderr.isTTY && files.length >= PROGRESS_MIN_FILES
    ? new SingleBar({ format: 'classifying [{bar}] {value}/{total} {eta_formatted} left', stream: process.stderr }, Presets.shades_classic)
    : undefined;
  bar?.start(files.length, 0);
  const window = Math.max(2, config.maxBatch * config.inferenceWorkers * 2);
  const inFlight: Promise<Line>[] = [];
  let failed = 0;
  let next = 0;
  const emit = (line: Line) => {
    if ('error' in line) failed++;
    process.stdout.write(`${JSON.stringify(line)}\n`);
    bar?.increment();
  };
  while (next < files.length || inFlight.length > 0) {
    while (next < files.length && inFlight.length < window) inFlight.push(classifyFile(files[next++]!));
    emit(await inFlight.shift()!);
  }
  bar?.stop();
  await classifier.close();
  process.exitCode = failed > 0 ? 1 : 0;
}
