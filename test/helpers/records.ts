import type { NewPrediction } from '../../src/store/record.js';

/** The i-th of a series of stored-prediction fixtures: one second apart from 2026-01-01, sensors s0–s2, odd ones Leak/high. */
export const testRecord = (i: number, over: Partial<NewPrediction> = {}): NewPrediction => ({
  prediction: i % 2 ? 'Leak' : 'Normal',
  confidence: 0.5 + i / 1000,
  timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  sensor_id: `s${i % 3}`,
  severity: i % 2 ? 'high' : 'none',
  p_leak: i % 2 ? 0.5 + i / 1000 : 0.5 - i / 1000,
  leak_threshold: 0.5,
  severity_low_threshold: 0.5,
  severity_high_threshold: 0.9,
  image_sha256: 'a'.repeat(64),
  image_width: 224,
  image_height: 224,
  model_sha256: 'b'.repeat(64),
  ...over,
});
