import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import { parse as parseCsv } from 'csv-parse';
import { Presets, SingleBar } from 'cli-progress';
import Type, { type Static, type TSchema } from 'typebox';
import Value from 'typebox/value';
import type { Config } from '../config.js';
import { type RecordFormat, recordStream, unescapeCsvText } from '../history/formats.js';
import { type HistoryQuerystring, parseInstant, toHistoryQuery } from '../http/history-query.js';
import { sensorIdProblem } from '../policy/sensor-id.js';
import { ApiError, InvalidParameterError } from '../errors.js';
import { openHistory } from '../server.js';
import { parseDatabaseUrl } from '../store/dialect.js';
import type { HistoryQuery, HistoryStore } from '../store/history-store.js';
import { type NewPrediction, PredictionRecord } from '../store/record.js';
import { fail } from './options.js';
import { oneLine } from './one-line.js';

async function open(config: Config): Promise<HistoryStore> {
  try {
    return await openHistory(config);
  } catch (err) {
    fail(oneLine(err, config));
  }
}

export interface ExportOptions {
  format: RecordFormat;
  out?: string;
  /** `limit` as typed: checked here, so that a bad one is reported like the other filters. */
  filters: Omit<HistoryQuerystring, 'limit'> & { limit?: string };
}

/** The export flag for a query parameter, so that errors name what the user typed. */
const FLAGS: Record<string, string> = { sensor_id: '--sensor-id' };

/** Export's filters as a query, or one line naming the bad option: the shared parser words its errors for HTTP. */
function exportQuery({ limit, ...filters }: ExportOptions['filters']): HistoryQuery {
  const n = limit === undefined ? undefined : Number(limit);
  if (limit !== undefined && !(/^\d+$/.test(limit) && Number.isSafeInteger(n) && n! >= 1)) {
    fail(`invalid --limit: ${JSON.stringify(limit)} is not a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`);
  }
  try {
    return toHistoryQuery(n === undefined ? filters : { ...filters, limit: n });
  } catch (err) {
    if (err instanceof InvalidParameterError) fail(`invalid ${FLAGS[err.parameter] ?? `--${err.parameter}`}: ${err.reason}`);
    if (err instanceof ApiError) fail(err.message);
    throw err;
  }
}

/** `leakwatch history export`: the history, filtered, as CSV or NDJSON, to stdout or a file. */
export async function runExport(config: Config, { format, out, filters }: ExportOptions): Promise<void> {
  const query = exportQuery(filters);
  // Opening a SQLite path creates it: a typo would export an empty history, and leave a database behind.
  let location;
  try {
    location = parseDatabaseUrl(config.databaseUrl);
  } catch (err) {
    fail(oneLine(err, config));
  }
  if (location.dialect === 'sqlite' && !existsSync(location.path)) fail(`no SQLite database at ${location.path}`);
  const history = await open(config);
  const total = process.stderr.isTTY ? await history.countMatching(query) : 0;
  const bar = process.stderr.isTTY
    ? new SingleBar({ format: 'exporting [{bar}] {value}/{total} records {eta_formatted} left', stream: process.stderr, etaBuffer: 1000 }, Presets.shades_classic)
    : undefined;
  bar?.start(total, 0);
  let written = 0;
  async function* counted() {
    for await (const batch of history.streamBatches(query)) {
      written += batch.length;
      bar?.update(written);
      yield batch;
    }
  }
  const sink: Writable = out ? createWriteStream(out) : process.stdout;
  try {
    await pipeline(recordStream(format, counted()), sink, { end: out !== undefined });
  } catch (err) {
    bar?.stop();
    await history.close();
    fail(`export failed after ${written} records: ${(err as Error).message}`);
  }
  bar?.update(written);
  bar?.stop();
  if (out) process.stderr.write(`exported ${written} records to ${out}\n`);
  await history.close();
}

const NUMERIC = new Set(['confidence', 'id', 'p_leak', 'leak_threshold', 'severity_low_threshold', 'severity_high_threshold', 'image_width', 'image_height']);

/** Reads an export back, one record per item, with the line it came from. */
async function* readRecords(path: string, format: RecordFormat): AsyncGenerator<{ line: number; value: unknown }> {
  if (format === 'ndjson') {
    let line = 0;
    for await (const read of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
      line++;
      // Editors on Windows save UTF-8 with a byte order mark; CSV skips it too (bom: true).
      const text = line === 1 && read.startsWith('\uFEFF') ? read.slice(1) : read;
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new ImportError(line, 'not a JSON object');
      }
      yield { line, value };
    }
    return;
  }
  const parser = createReadStream(path).pipe(parseCsv({ columns: true, bom: true, relax_column_count: false, info: true }));
  for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    const value: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record)) value[k] = NUMERIC.has(k) && v !== '' ? Number(v) : unescapeCsvText(v);
    yield { line: info.lines, value };
  }
}

class ImportError extends Error {
  constructor(readonly line: number, reason: string) {
    super(`line ${line}: ${reason}`);
  }
}

const Probability = Type.Number({ minimum: 0, maximum: 1 });
// At least one pixel, and within the columns' range (PostgreSQL integer).
const Dimension = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });

/**
 * Ranges every recorded prediction is within, which PredictionRecord does not state: it is also the API's
 * response schema, and loosening or tightening what the API documents is not import's business.
 */
const RecordRanges = Type.Object({
  confidence: Probability, p_leak: Probability,
  leak_threshold: Probability, severity_low_threshold: Probability, severity_high_threshold: Probability,
  image_width: Dimension, image_height: Dimension,
});

function checkRecord<T extends TSchema>(line: number, schema: T, value: unknown): asserts value is Static<T> {
  if (!Value.Check(schema, value)) {
    const first = Value.Errors(schema, value)[0];
    throw new ImportError(line, `not a prediction record${first ? ` (${first.instancePath || '/'} ${first.message})` : ''}`);
  }
}

function toNewPrediction(line: number, value: unknown): NewPrediction & { uid: string } {
  checkRecord(line, PredictionRecord, value);
  checkRecord(line, RecordRanges, value);
  // Stored timestamps are UTC with milliseconds, so that they compare as text: normalize any other form.
  const timestamp = parseInstant(value.timestamp);
  if (timestamp === undefined) throw new ImportError(line, `timestamp ${JSON.stringify(value.timestamp)} is not an ISO 8601 instant`);
  const sensorProblem = sensorIdProblem(value.sensor_id);
  if (sensorProblem !== undefined) throw new ImportError(line, `invalid sensor_id: ${sensorProblem}`);
  if (value.uid === '' || value.uid.length > 100) throw new ImportError(line, 'uid must be 1 to 100 characters');
  // Only the record's own fields: anything else in the file is ignored, never written.
  return {
    prediction: value.prediction, confidence: value.confidence, timestamp, sensor_id: value.sensor_id, severity: value.severity,
    p_leak: value.p_leak, leak_threshold: value.leak_threshold, severity_low_threshold: value.severity_low_threshold,
    severity_high_threshold: value.severity_high_threshold, image_sha256: value.image_sha256, image_width: value.image_width,
    image_height: value.image_height, model_sha256: value.model_sha256, uid: value.uid,
  };
}

const IMPORT_BATCH = 1000;

/** `leakwatch history import`: reads what export wrote; records already present (by uid) are skipped. */
export async function runImport(config: Config, path: string, format: RecordFormat | undefined): Promise<void> {
  const fmt = format ?? (path.endsWith('.csv') ? 'csv' : 'ndjson');
  try {
    // A device or FIFO (/dev/zero, a pipe nobody writes to) would never end, or never open.
    if (!(await stat(path)).isFile()) fail(`cannot read ${path} (not a regular file)`);
    await once(createReadStream(path), 'open');
  } catch (err) {
    fail(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const history = await open(config);
  const bar = process.stderr.isTTY ? new SingleBar({ format: 'importing {value} records', stream: process.stderr }, Presets.shades_classic) : undefined;
  bar?.start(0, 0);
  let read = 0;
  let added = 0;
  let batch: (NewPrediction & { uid: string })[] = [];
  const flush = async () => {
    added += await history.importRecords(batch);
    batch = [];
    bar?.update(read);
  };
  try {
    for await (const { line, value } of readRecords(path, fmt)) {
      batch.push(toNewPrediction(line, value));
      read++;
      if (batch.length >= IMPORT_BATCH) await flush();
    }
    await flush();
  } catch (err) {
    bar?.stop();
    await history.close();
    const reason = err instanceof ImportError ? err.message : (err as Error).message.split('\n')[0] ?? '';
    fail(`import stopped at ${path}: ${reason}. ${added} records were added before it; fix the file and run again (records already imported are skipped).`);
  }
  bar?.stop();
  process.stderr.write(`read ${read} records from ${path}: ${added} added, ${read - added} already present\n`);
  await history.close();
}
