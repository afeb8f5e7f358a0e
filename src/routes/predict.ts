import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errorResponses } from '../errors.js';
import { readUpload } from '../http/read-upload.js';
import type { Predictor } from '../service/predictor.js';
import { Errors } from '../errors.js';

export interface PredictDeps {
  predictor: Predictor;
  maxUploadBytes: number;
}

// Documents the multipart form for OpenAPI; the handler reads and validates the parts itself.
const PredictForm = Type.Object({
  file: Type.String({ format: 'binary', description: 'The PNG image to classify' }),
  sensor_id: Type.String({ minLength: 1, maxLength: 128, description: 'Identifier of the sensor that captured the image' }),
}, { required: ['file', 'sensor_id'] });

const predictRoute: FastifyPluginAsyncTypebox<PredictDeps> = async (app, { predictor, maxUploadBytes }) => {
  app.post('/predict', {
    schema: {
      summary: 'Classify a PNG as Leak or Normal',
      description: 'Upload a PNG image and a sensor id. The prediction is recorded in the history before the response is sent.',
      tags: ['predictions'],
      consumes: ['multipart/form-data'],
      body: PredictForm,
      response: { 200: Type.Ref('PredictionRecord'), ...errorResponses(400, 413, 415, 422, 500, 503) },
    },
    // The body is a multipart stream, validated part by part in readUpload.
    validatorCompiler: () => () => true,
    onRequest: async (request) => {
      const length = Number(request.headers['content-length']);
      if (Number.isFinite(length) && length > maxUploadBytes) throw Errors.uploadTooLarge(maxUploadBytes);
    },
  }, async (request) => {
    const upload = await readUpload(request, maxUploadBytes);
    return predictor.predict(upload);
  });
};

export default predictRoute;
