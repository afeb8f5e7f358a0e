import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { Errors, errorResponses } from '../errors.js';
import { KEY_SECURITY } from '../http/access.js';
import { type Admission, retryAfterSeconds } from '../http/admission.js';
import { readUpload } from '../http/read-upload.js';
import type { ClassifierStats } from '../inference/classifier.js';
import type { Metrics } from '../metrics.js';
import type { Predictor } from '../service/predictor.js';

export interface PredictDeps {
  predictor: Predictor;
  maxUploadBytes: number;
  admission: Admission;
  stats: () => ClassifierStats;
  metrics: Metrics;
}

// Documents the multipart form for OpenAPI; the handler reads and validates the parts itself.
const PredictForm = Type.Object({
  file: Type.String({ format: 'binary', description: 'The PNG image to classify' }),
  sensor_id: Type.String({ minLength: 1, maxLength: 128, description: 'Identifier of the sensor that captured the image' }),
}, { required: ['file', 'sensor_id'] });

const predictRoute: FastifyPluginAsyncTypebox<PredictDeps> = async (app, { predictor, maxUploadBytes, admission, stats, metrics }) => {
  const admitted = new WeakSet<object>();
  const leave = (request: object) => {
    if (admitted.delete(request)) admission.leave();
  };

  app.post('/predict', {
    schema: {
      summary: 'Classify a PNG as Leak or Normal',
      description: 'Upload a PNG image and a sensor id. The prediction is recorded in the history before the response is sent.',
      tags: ['predictions'],
      consumes: ['multipart/form-data'],
      body: PredictForm,
      response: { 200: Type.Ref('PredictionRecord'), ...errorResponses(400, 401, 403, 413, 415, 422, 429, 500, 503) },
      security: KEY_SECURITY,
    },
    config: { scope: 'predict' },
    // The body is a multipart stream, validated part by part in readUpload.
    validatorCompiler: () => () => true,
    onRequest: async (request) => {
      const length = Number(request.headers['content-length']);
      if (Number.isFinite(length) && length > maxUploadBytes) throw Errors.uploadTooLarge(maxUploadBytes);
      // Admitted before the body is read, so an overload is refused without buffering anything.
      if (!admission.tryEnter()) {
        const { msPerImage, workers } = stats();
        throw Errors.overloaded(retryAfterSeconds(admission.inUse, msPerImage, workers));
      }
      admitted.add(request);
    },
    // The place is given back once the work is done, whatever happens to the client: a client
    // that hangs up after sending its upload triggers neither onResponse nor onRequestAbort.
    onResponse: async (request) => leave(request),
    onRequestAbort: async (request) => leave(request),
  }, async (request) => {
    try {
      const upload = await readUpload(request, maxUploadBytes);
      const record = await predictor.predict(upload);
      metrics.predictions.inc({ prediction: record.prediction, severity: record.severity });
      return record;
    } finally {
      leave(request);
    }
  });
};

export default predictRoute;
