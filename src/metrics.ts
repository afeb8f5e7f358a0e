import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClassifierStats } from './inference/classifier.js';
import type { ModelIdentity } from './inference/protocol.js';

/** The service's Prometheus metrics, in a registry of their own (one per app). */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'route' | 'method' | 'status'>;
  batchSize: Histogram;
  batchDuration: Histogram;
  predictions: Counter<'prediction' | 'severity'>;
  rejections: Counter<'code'>;
}

export function createMetrics(model: ModelIdentity, stats: () => ClassifierStats): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'leakwatch_' });
  new Gauge({
    name: 'leakwatch_model_info',
    help: 'The model being served (value 1)',
    labelNames: ['path', 'sha256', 'labels'],
    // Merged across `serve --workers` processes, which all serve the same model: 1, not N.
    aggregator: 'first',
    registers: [registry],
  }).set({ path: model.path, sha256: model.sha256, labels: model.spec.labels.join(',') }, 1);
  new Gauge({
    name: 'leakwatch_inference_queue_depth',
    help: 'Images waiting for an inference worker',
    registers: [registry],
    collect() {
      this.set(stats().queued);
    },
  });
  new Gauge({
    name: 'leakwatch_inference_in_flight',
    help: 'Images in batches being run',
    registers: [registry],
    collect() {
      this.set(stats().inFlight);
    },
  });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'leakwatch_http_request_duration_seconds',
      help: 'HTTP request latency, by route and status',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'leakwatch_inference_batch_size',
      help: 'Images per inference run',
      buckets: [1, 2, 3, 4, 6, 8, 12, 16, 32, 64],
      registers: [registry],
    }),
    batchDuration: new Histogram({
      name: 'leakwatch_inference_batch_duration_seconds',
      help: 'Time to decode, preprocess and run one inference batch',
      buckets: [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2],
      registers: [registry],
    }),
    predictions: new Counter({
      name: 'leakwatch_predictions_total',
      help: 'Recorded predictions, by label and severity',
      labelNames: ['prediction', 'severity'],
      registers: [registry],
    }),
    rejections: new Counter({
      name: 'leakwatch_rejected_requests_total',
      help: 'Requests answered with an error, by error code',
      labelNames: ['code'],
      registers: [registry],
    }),
  };
}
