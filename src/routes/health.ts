import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Classifier } from '../inference/classifier.js';
import type { HistoryStore } from '../store/history-store.js';

const Status = Type.Object({
  status: Type.String({ examples: ['ok'] }),
  checks: Type.Optional(Type.Record(Type.String(), Type.String())),
});

export interface HealthDeps {
  classifier: Classifier;
  history: HistoryStore;
}

const healthRoutes: FastifyPluginAsyncTypebox<HealthDeps> = async (app, { classifier, history }) => {
  app.get('/healthz', {
    schema: { summary: 'Liveness', description: 'Answers while the process is alive and serving.', tags: ['health'], response: { 200: Status } },
    config: { unlimited: true },
    logLevel: 'warn',
  }, () => ({ status: 'ok' }));

  app.get('/readyz', {
    schema: {
      summary: 'Readiness',
      description: 'Answers 200 when the model is loaded and the history store is reachable, else 503.',
      tags: ['health'],
      response: { 200: Status, 503: Status },
    },
    config: { unlimited: true },
    logLevel: 'warn',
  }, async (_request, reply) => {
    const model = classifier.isReady() ? 'ok' : 'no inference worker';
    let store = 'ok';
    try {
      await history.ping();
    } catch (err) {
      store = (err as { code?: string }).code === 'SQLITE_FULL' ? 'disk full' : 'unreachable';
    }
    const ready = model === 'ok' && store === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'not ready', checks: { model, store } });
  });
};

export default healthRoutes;
