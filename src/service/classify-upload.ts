import { createHash } from 'node:crypto';
import type { Config } from '../config.js';
import { Errors } from '../errors.js';
import { DecodeError, type DecodeLimits, inspectPng } from '../image/decode-png.js';
import { hasPngSignature } from '../image/png-signature.js';
import type { Classifier } from '../inference/classifier.js';
import { type Decision, type Thresholds, decide } from '../policy/severity.js';

export interface Classification extends Decision {
  label: string;
  probabilities: [number, number];
  image: { sha256: string; width: number; height: number };
}

export interface ClassifyDeps {
  classifier: Classifier;
  thresholds: Thresholds;
  limits: DecodeLimits;
}

/** The classification settings of a configuration, for a running classifier. */
export function classifyDeps(config: Config, classifier: Classifier): ClassifyDeps {
  return {
    classifier,
    thresholds: { leak: config.leakThreshold, severityLow: config.severityLowThreshold, severityHigh: config.severityHighThreshold },
    limits: { maxPixels: config.maxImagePixels },
  };
}

/**
 * The classification path shared by the HTTP API and the CLI:
 * check the PNG signature → inspect (chunks, header, size limit) → decode and classify (inference
 * worker) → apply the severity policy. Throws ApiErrors for bad uploads.
 */
export async function classifyUpload(bytes: Uint8Array, deps: ClassifyDeps): Promise<Classification> {
  if (bytes.length === 0) throw Errors.emptyFile();
  if (!hasPngSignature(bytes)) throw Errors.notPng();
  const toApiError = (err: unknown) => {
    if (!(err instanceof DecodeError)) return err;
    if (err.kind === 'too_large') return Errors.imageTooLarge(err.width, err.height, deps.limits.maxPixels);
    return Errors.invalidPng('the file is corrupt or truncated');
  };
  let image;
  try {
    image = inspectPng(bytes, deps.limits);
  } catch (err) {
    throw toApiError(err);
  }
  const classified = deps.classifier.classify(image).catch((err: unknown) => {
    throw toApiError(err);
  });
  // Hashed while the inference worker runs, off the request's critical path.
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const probabilities = await classified;
  const decision = decide(probabilities, deps.thresholds);
  const labels = deps.classifier.model.spec.labels;
  return {
    ...decision,
    label: decision.isLeak ? labels[1] : labels[0],
    probabilities,
    image: { sha256, width: image.header.width, height: image.header.height },
  };
}
