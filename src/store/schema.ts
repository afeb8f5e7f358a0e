import type { Generated, Insertable, Selectable } from 'kysely';

/** One recorded prediction. Timestamps are ISO 8601 UTC strings of fixed width, so they sort as text. */
export interface PredictionsTable {
  id: Generated<number>;
  /** Identity across stores (random, 32 hex digits or a UUID): export and import keep it. */
  uid: string | null;
  timestamp: string;
  sensor_id: string;
  prediction: string;
  confidence: number;
  p_leak: number;
  severity: string;
  leak_threshold: number;
  severity_low_threshold: number;
  severity_high_threshold: number;
  image_sha256: string;
  image_width: number;
  image_height: number;
  model_sha256: string;
}

/** Running totals per sensor, prediction and severity, kept in the same transaction as each insert. */
export interface SensorStatsTable {
  sensor_id: string;
  prediction: string;
  severity: string;
  count: number;
  first_seen: string;
  last_seen: string;
  /** Id of the latest record (by timestamp) of this group. */
  last_id: number;
}

/** An API key: only its prefix (public) and the SHA-256 of the whole key are stored. */
export interface ApiKeysTable {
  id: Generated<number>;
  name: string;
  scope: string;
  prefix: string;
  hash: string;
  created_at: string;
  revoked_at: string | null;
}

export interface DatabaseSchema {
  predictions: PredictionsTable;
  sensor_stats: SensorStatsTable;
  api_keys: ApiKeysTable;
}

export type PredictionRow = Selectable<PredictionsTable>;
export type NewPredictionRow = Insertable<PredictionsTable>;
