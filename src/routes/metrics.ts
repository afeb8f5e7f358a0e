import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { ClusterMetricsError, type MetricsSource } from '../cluster-metrics.js';
import { Errors, errorResponses } from '../errors.js';
import { KEY_SECURITY } from '../http/access.js';

const metricsRoute: FastifyPluginAsyncTypebox<{ source: MetricsSource }> = async (app, { source }) => {
  app.get('/metrics', {
    schema: {
      summary: 'Prometheus metrics',
      description: 'Request latency, inference batches, queue depth, predictions by label and severity, the model, and process metrics, in the Prometheus text format. Under `serve --workers N`, the sum over every server process.',
      tags: ['health'],
      produces: ['text/plain'],
      response: { 200: Type.String(), ...errorResponses(401, 403, 429, 503) },
      security: KEY_SECURITY,
    },
    config: { scope: 'read' },
    logLevel: 'warn',
  }, async (_request, reply) => {
    let text: string;
    try {
      text = await source.text();
    } catch (err) {
      if (err instanceof ClusterMetricsError) throw Object.assign(Errors.metricsUnavailable(), { cause: err });
      throw err;
    }
    return reply.type(source.contentType).send(text);
  });
};

export default metricsRoute;
