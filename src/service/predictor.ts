import { Errors } from '../errors.js';
import type { NewPrediction, PredictionRecord } from '../store/record.js';
import type { HistoryStore } from '../store/history-store.js';
import { type ClassifyDeps, classifyUpload } from './classify-upload.js';

export interface Upload {
  bytes: Uint8Array;
  sensorId: string;
}

export interface Predictor {
  /** Classifies the upload and resolves once its record is durable. */
  predict(upload: Upload): Promise<PredictionRecord>;
}

export function createPredictor(deps: ClassifyDeps & { history: HistoryStore }): Predictor {
  return {
    async predict({ bytes, sensorId }) {
      const c = await classifyUpload(bytes, deps);
      const record: NewPrediction = {
        prediction: c.label,
        confidence: c.confidence,
        timestamp: new Date().toISOString(),
        sensor_id: sensorId,
        severity: c.severity,
        p_leak: c.probabilities[1],
        leak_threshold: deps.thresholds.leak,
        severity_low_threshold: deps.thresholds.severityLow,
        severity_high_threshold: deps.thresholds.severityHigh,
        image_sha256: c.image.sha256,
        image_width: c.image.width,
        image_height: c.image.height,
        model_sha256: deps.classifier.model.sha256,
      };
      try {
        return await deps.history.record(record);
      } catch (err) {
        throw Object.assign(Errors.storeUnavailable(), { cause: err });
      }
    },
  };
}
