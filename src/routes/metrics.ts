import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errorResponses } from '../errors.js';
import { KEY_SECURITY } from '../http/access.js';
import type { Metrics } from '../metrics.js';

const metricsRoute: FastifyPluginAsyncTypebox<{ metrics: Metrics }> = async (app, { metrics }) => {
  app.get('/metrics', {
    schema: {
      summary: 'Prometheus metrics',
      description: 'Request latency, inference batches, queue depth, predictions by label and severity, the model, and process metrics, in the Prometheus text format.',
      tags: ['health'],
      produces: ['text/plain'],
      response: { 200: Type.String(), ...errorResponses(401, 403, 429) },
      security: KEY_SECURITY,
    },
    config: { scope: 'read' },
    logLevel: 'warn',
  }, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
};

export default metricsRoute;
