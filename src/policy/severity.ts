import type { Severity } from '../store/record.js';

export interface Thresholds {
  leak: number;
  severityLow: number;
  severityHigh: number;
}

export interface Decision {
  isLeak: boolean;
  /** Probability of the predicted class. */
  confidence: number;
  severity: Severity;
}

/**
 * The severity policy: a Leak when p(leak) ≥ leak threshold; its severity is "high" at or above
 * the high threshold, "low" at or above the low one, else "none". Every Normal is "none".
 */
export function decide(probabilities: readonly [pNormal: number, pLeak: number], t: Thresholds): Decision {
  const isLeak = probabilities[1] >= t.leak;
  const confidence = isLeak ? probabilities[1] : probabilities[0];
  let severity: Severity = 'none';
  if (isLeak) {
    if (confidence >= t.severityHigh) severity = 'high';
    else if (confidence >= t.severityLow) severity = 'low';
  }
  return { isLeak, confidence, severity };
}
