import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errorResponses } from '../errors.js';
import { HistoryQuerystring, toHistoryQuery } from '../http/history-query.js';
import { jsonArrayStream } from '../http/json-array-stream.js';
import type { HistoryStore } from '../store/history-store.js';

const historyRoute: FastifyPluginAsyncTypebox<{ history: HistoryStore }> = async (app, { history }) => {
  app.get('/prediction_history', {
    schema: {
      summary: 'Prediction history',
      description: 'Every recorded prediction, Leak and Normal alike, oldest first, streamed from the database. Filters are optional and combine.',
      tags: ['predictions'],
      querystring: HistoryQuerystring,
      response: { 200: Type.Array(Type.Ref('PredictionRecord')), ...errorResponses(400, 500) },
    },
  }, async (request, reply) => {
    const query = toHistoryQuery(request.query);
    // Streamed: the serializer is bypassed, so records are written exactly as toRecord shapes them.
    return reply.type('application/json; charset=utf-8').send(jsonArrayStream(history.stream(query)) as never);
  });
};

export default historyRoute;
