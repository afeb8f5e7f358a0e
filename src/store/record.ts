import Type, { type Static } from 'typebox';
import type { PredictionRow } from './schema.js';

export const Severity = Type.Enum(['none', 'low', 'high'], {
  description: '"high" or "low" for a Leak at or above the matching threshold, else "none"',
});
export type Severity = Static<typeof Severity>;

/** A recorded prediction as the API shows it: the specification's five fields first, then provenance. */
export const PredictionRecord = Type.Object(
  {
    prediction: Type.String({ description: 'The predicted label: "Leak" or "Normal" with the default labels', examples: ['Leak'] }),
    confidence: Type.Number({ minimum: 0, maximum: 1, description: 'Probability of the predicted class, at full precision' }),
    timestamp: Type.String({ format: 'date-time', description: 'When the prediction was made, ISO 8601 UTC with a +00:00 offset', examples: ['2026-11-27T03:30:30.063+00:00'] }),
    sensor_id: Type.String({ description: 'The sensor that sent the image' }),
    severity: Severity,
    id: Type.Integer({ description: 'Record id, increasing in the order records were written' }),
    p_leak: Type.Number({ minimum: 0, maximum: 1, description: 'Probability of the leak class' }),
    leak_threshold: Type.Number({ description: 'LEAK_THRESHOLD applied to this record' }),
    severity_low_threshold: Type.Number({ description: 'SEVERITY_LOW_THRESHOLD applied to this record' }),
    severity_high_threshold: Type.Number({ description: 'SEVERITY_HIGH_THRESHOLD applied to this record' }),
    image_sha256: Type.String({ description: 'SHA-256 of the uploaded file, hex' }),
    image_width: Type.Integer(),
    image_height: Type.Integer(),
    model_sha256: Type.String({ description: 'SHA-256 of the model file that made the prediction, hex' }),
    uid: Type.String({ description: 'Identity of the record across stores: history export and import keep it, so importing twice adds nothing' }),
  },
  { $id: 'PredictionRecord', title: 'PredictionRecord' },
);
export type PredictionRecord = Static<typeof PredictionRecord>;
/** A record to write: the store assigns the id, and a uid unless it has one (an imported record). */
export type NewPrediction = Omit<PredictionRecord, 'id' | 'uid'> & { uid?: string };

const SEVERITIES = new Set<string>(['none', 'low', 'high']);

/**
 * A stored instant (ISO 8601, UTC, ending in Z, which orders as text) as the API writes it: with a
 * +00:00 offset instead. Python's datetime.fromisoformat, which a client written for the
 * specification may well use, reads that form on every version, but a Z only from 3.11 on.
 */
export const apiInstant = (stored: string): string => (stored.endsWith('Z') ? `${stored.slice(0, -1)}+00:00` : stored);

export function toRecord(row: PredictionRow): PredictionRecord {
  if (!SEVERITIES.has(row.severity)) throw new Error(`corrupt history row ${row.id}: severity ${row.severity}`);
  return {
    prediction: row.prediction,
    confidence: row.confidence,
    timestamp: apiInstant(row.timestamp),
    sensor_id: row.sensor_id,
    severity: row.severity as Severity,
    id: row.id,
    p_leak: row.p_leak,
    leak_threshold: row.leak_threshold,
    severity_low_threshold: row.severity_low_threshold,
    severity_high_threshold: row.severity_high_threshold,
    image_sha256: row.image_sha256,
    image_width: row.image_width,
    image_height: row.image_height,
    model_sha256: row.model_sha256,
    uid: row.uid ?? String(row.id),
  };
}
