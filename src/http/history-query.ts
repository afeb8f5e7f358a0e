import Type, { type Static } from 'typebox';
import { Errors } from '../errors.js';
import type { HistoryQuery } from '../store/history-store.js';

export const HISTORY_FORMATS = ['json', 'ndjson', 'csv'] as const;
export type HistoryFormat = (typeof HISTORY_FORMATS)[number];

export const HistoryQuerystring = Type.Object({
  sensor_id: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 1000 })], {
    description: 'Only records from this sensor; repeat the parameter for several (sensor_id=a&sensor_id=b)',
  })),
  prediction: Type.Optional(Type.String({ description: "Only records with this prediction, e.g. Leak or Normal (the model's labels in any case: leak is Leak)" })),
  severity: Type.Optional(Type.Enum(['none', 'low', 'high'], { description: 'Only records with this severity' })),
  since: Type.Optional(Type.String({ description: 'Only records at or after this instant (ISO 8601; without a zone it is UTC)', examples: ['2026-11-26T00:00:00Z'] })),
  until: Type.Optional(Type.String({ description: 'Only records at or before this instant (ISO 8601; without a zone it is UTC); a date alone means the end of that day' })),
  order: Type.Optional(Type.Enum(['asc', 'desc'], { description: 'asc: oldest first (the default); desc: newest first' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, description: 'At most this many records: a page. When more match, a Link header (rel="next") gives the next page' })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'Where a page starts: copy it from the previous page\'s Link header' })),
  format: Type.Optional(Type.Enum(HISTORY_FORMATS, { description: 'Response format; overrides Accept (application/json, application/x-ndjson, text/csv)' })),
});
export type HistoryQuerystring = Static<typeof HistoryQuerystring>;

// Calendar date, optionally with time (minutes or seconds, optional fraction) and zone.
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

const DAY_MS = 86_400_000;

/**
 * Parses an ISO 8601 date or date-time to the stored form (UTC, millisecond precision); undefined
 * when invalid. With `endOfDay`, a date alone is the last millisecond of that day (an inclusive
 * `until=2026-11-27` takes in the whole 27th); a date-time is unaffected.
 */
export function parseInstant(text: string, { endOfDay = false } = {}): string | undefined {
  const m = ISO_INSTANT.exec(text.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map((v: string | undefined) => Number(v ?? 0)) as [number, number, number, number, number, number];
  const frac = m[7] ?? '';
  const zone = m[8] ?? 'Z';
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (y < 1000 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || s > 59) return undefined;
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(-2));
    if (zh > 23 || zm > 59) return undefined;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (zh * 60 + zm);
  }
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const dateOnly = m[4] === undefined;
  const time = Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMinutes * 60_000 + (endOfDay && dateOnly ? DAY_MS - 1 : 0);
  const date = new Date(time);
  return date.getUTCFullYear() <= 9999 ? date.toISOString() : undefined;
}

const CURSOR = /^([ad])(\d{1,16})$/;

/** An opaque page cursor: the direction and the id the previous page ended on. */
export function encodeCursor(order: 'asc' | 'desc', afterId: number): string {
  return Buffer.from(`${order[0]!}${afterId}`).toString('base64url');
}

function decodeCursor(text: string): { order: 'asc' | 'desc'; after: number } | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const m = CURSOR.exec(Buffer.from(text, 'base64url').toString('latin1'));
  if (!m) return undefined;
  const after = Number(m[2]);
  return Number.isSafeInteger(after) ? { order: m[1] === 'a' ? 'asc' : 'desc', after } : undefined;
}

/**
 * Validates and converts the query string of GET /prediction_history. `labels`, the served model's,
 * let a `prediction` filter in another case find them (a client of the specification may send `leak`).
 */
export function toHistoryQuery(qs: HistoryQuerystring, labels: readonly string[] = []): HistoryQuery {
  const query: HistoryQuery = {};
  if (qs.sensor_id !== undefined) {
    const ids = typeof qs.sensor_id === 'string' ? [qs.sensor_id] : [...new Set(qs.sensor_id)];
    if (ids.length === 0) throw Errors.invalidParameter('sensor_id', 'give at least one value');
    query.sensorIds = ids;
  }
  if (qs.prediction !== undefined) {
    const wanted = qs.prediction.toLowerCase();
    query.prediction = labels.includes(qs.prediction) ? qs.prediction : (labels.find((l) => l.toLowerCase() === wanted) ?? qs.prediction);
  }
  if (qs.severity !== undefined) query.severity = qs.severity;
  for (const key of ['since', 'until'] as const) {
    const raw = qs[key];
    if (raw === undefined) continue;
    const instant = parseInstant(raw, { endOfDay: key === 'until' });
    if (instant === undefined) throw Errors.invalidParameter(key, `${JSON.stringify(raw)} is not an ISO 8601 date or date-time, e.g. 2026-11-26T08:00:00Z`);
    query[key] = instant;
  }
  if (query.since !== undefined && query.until !== undefined && query.since > query.until) {
    throw Errors.invalidParameter('since', 'it is later than until');
  }
  // Ajv coerces 'Infinity' and '1e400' to ±Infinity past minimum; values past 2^53 (or SQLite's int64) break the stream after its 200.
  if (qs.limit !== undefined && !Number.isSafeInteger(qs.limit)) throw Errors.invalidParameter('limit', `${JSON.stringify(String(qs.limit))} is not a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`);
  if (qs.limit !== undefined) query.limit = qs.limit;
  if (qs.order !== undefined) query.order = qs.order;
  if (qs.cursor !== undefined) {
    const cursor = decodeCursor(qs.cursor);
    if (!cursor) throw Errors.invalidParameter('cursor', 'it is not a cursor this service issued; copy it from a Link header');
    if (qs.order !== undefined && qs.order !== cursor.order) throw Errors.invalidParameter('cursor', `it continues a page in ${cursor.order} order, not ${qs.order}`);
    query.order = cursor.order;
    query.after = cursor.after;
  }
  return query;
}
