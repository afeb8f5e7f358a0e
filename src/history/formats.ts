import { Readable } from 'node:stream';
import type { PredictionRecord } from '../store/record.js';

/** The ways history leaves the service: over HTTP and from `leakwatch history export`. */
export type RecordFormat = 'json' | 'ndjson' | 'csv';

export const CONTENT_TYPES: Record<RecordFormat, string> = {
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
};

/** CSV columns: every field of a record, in the order the API shows them. */
export const CSV_COLUMNS = [
  'prediction', 'confidence', 'timestamp', 'sensor_id', 'severity', 'id', 'p_leak', 'leak_threshold',
  'severity_low_threshold', 'severity_high_threshold', 'image_sha256', 'image_width', 'image_height', 'model_sha256', 'uid',
] as const satisfies readonly (keyof PredictionRecord)[];

/**
 * Text a spreadsheet would run as a formula (OWASP's CSV injection: a sensor_id of
 * `=HYPERLINK(…)`, say) starts with one of these. Such text is written with a `'` in front, which
 * spreadsheets show as text; text that itself starts with `'` gets one more, so that reading the
 * file back (unescapeCsvText) gives every value exactly as stored.
 */
const FORMULA_START = /^[=+\-@\t\r']/;

/** A text value as a CSV cell holds it: neutralised when a spreadsheet would run it as a formula. */
export const escapeCsvText = (text: string): string => (FORMULA_START.test(text) ? `'${text}` : text);

/** The inverse of escapeCsvText, for `history import`. */
export const unescapeCsvText = (cell: string): string => (cell.startsWith("'") && FORMULA_START.test(cell.slice(1)) ? cell.slice(1) : cell);

/** RFC 4180: quote a field that holds a comma, quote, CR or LF; double its quotes. */
function csvField(value: string | number): string {
  const text = typeof value === 'number' ? String(value) : escapeCsvText(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const csvHeader = (): string => CSV_COLUMNS.join(',') + '\r\n';
export const csvRow = (r: PredictionRecord): string => CSV_COLUMNS.map((c) => csvField(r[c])).join(',') + '\r\n';

/**
 * Streams records in a format, a chunk of rows at a time, without holding them all. Reading from
 * the source pauses while the consumer is slow (Readable.from honours backpressure).
 */
export function recordStream(format: RecordFormat, batches: AsyncIterable<PredictionRecord[]>): Readable {
  const open = format === 'json' ? '[' : format === 'csv' ? csvHeader() : '';
  const close = format === 'json' ? ']' : '';
  const encode = format === 'csv' ? csvRow : format === 'ndjson' ? (r: PredictionRecord) => JSON.stringify(r) + '\n' : null;
  async function* generate() {
    let first = true;
    let pending = open;
    for await (const batch of batches) {
      if (batch.length === 0) continue;
      // One string per batch: a few hundred records, one write.
      let chunk: string;
      if (encode) chunk = batch.map(encode).join('');
      else {
        chunk = (first ? '' : ',') + batch.map((r) => JSON.stringify(r)).join(',');
        first = false;
      }
      yield pending + chunk;
      pending = '';
    }
    yield pending + close;
  }
  return Readable.from(generate(), { objectMode: false });
}

const ACCEPTED: [string, RecordFormat][] = [
  ['application/json', 'json'],
  ['application/x-ndjson', 'ndjson'],
  ['application/ndjson', 'ndjson'],
  ['application/jsonl', 'ndjson'],
  ['text/csv', 'csv'],
];

/** The format an Accept header prefers among ours (by q, then by its order); JSON when it names none of them. */
export function formatFromAccept(accept: string | undefined): RecordFormat {
  if (!accept) return 'json';
  let best: { format: RecordFormat; q: number } | undefined;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!(q > 0)) continue;
    const match = ACCEPTED.find(([t]) => t === type);
    if (match && (!best || q > best.q)) best = { format: match[1], q };
  }
  return best?.format ?? 'json';
}
