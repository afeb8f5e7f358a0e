import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { Errors, errorResponses } from '../errors.js';
import { KEY_SECURITY } from '../http/access.js';
import type { HistoryStore } from '../store/history-store.js';

const Counts = (description: string) => Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { description });

export const SensorSummary = Type.Object(
  {
    sensor_id: Type.String(),
    first_seen: Type.String({ format: 'date-time', description: 'Timestamp of its first recorded prediction' }),
    last_seen: Type.String({ format: 'date-time', description: 'Timestamp of its latest recorded prediction' }),
    count: Type.Integer({ minimum: 0, description: 'Predictions recorded for it' }),
    by_prediction: Counts('Counts by prediction, e.g. {"Leak": 3, "Normal": 97}'),
    by_severity: Counts('Counts by severity: none, low, high'),
    last: Type.Union([Type.Ref('PredictionRecord'), Type.Null()], { description: 'Its latest prediction (null if retention has purged it)' }),
  },
  { $id: 'SensorSummary', title: 'SensorSummary' },
);

const sensorsRoute: FastifyPluginAsyncTypebox<{ history: HistoryStore }> = async (app, { history }) => {
  app.get('/sensors', {
    schema: {
      summary: 'Sensors',
      description: 'Every sensor that has sent an image: first and last seen, counts by prediction and severity, and its latest prediction. '
        + 'Read from running totals kept with each insert, so it costs the same at a million records as at ten. '
        + 'Counts cover every prediction ever recorded, including ones retention has since purged.',
      tags: ['predictions'],
      response: { 200: Type.Array(Type.Ref('SensorSummary')), ...errorResponses(401, 403, 429, 500, 503) },
      security: KEY_SECURITY,
    },
    config: { scope: 'read' },
  }, async () => {
    try {
      return await history.sensors();
    } catch (err) {
      throw Object.assign(Errors.storeUnavailable('read'), { cause: err });
    }
  });
};

export default sensorsRoute;
