import type { Generated, Insertable, Selectable } from 'kysely';

/** One recorded prediction. Timestamps are ISO 8601 UTC strings of fixed width, so they sort as text. */
export interface PredictionsTable {
  id: Generated<number>;
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

export interface DatabaseSchema {
  predictions: PredictionsTable;
}

export type PredictionRow = Selectable<PredictionsTable>;
export type NewPredictionRow = Insertable<PredictionsTable>;
