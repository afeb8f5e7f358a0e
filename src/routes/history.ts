import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { Errors, errorResponses } from '../errors.js';
import { CONTENT_TYPES, formatFromAccept, recordStream } from '../history/formats.js';
import { KEY_SECURITY } from '../http/access.js';
import { HistoryQuerystring, encodeCursor, toHistoryQuery } from '../http/history-query.js';
import type { HistoryStore } from '../store/history-store.js';

/** The request's query string with `cursor` set to continue after `afterId`. */
function nextPageUrl(url: string, cursor: string): string {
  const q = url.indexOf('?');
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  params.delete('cursor');
  params.set('cursor', cursor);
  return `${q < 0 ? url : url.slice(0, q)}?${params.toString()}`;
}

const historyRoute: FastifyPluginAsyncTypebox<{ history: HistoryStore; labels: readonly string[] }> = async (app, { history, labels }) => {
  app.get('/prediction_history', {
    schema: {
      summary: 'Prediction history',
      description: [
        'Every recorded prediction, Leak and Normal alike, oldest first unless order=desc, streamed from a database cursor. Filters are optional and combine.',
        'With `limit`, the response is a page: when more records match, a `Link: <…>; rel="next"` header gives the URL of the next one.',
        'The body is a JSON array by default; `Accept: application/x-ndjson` or `text/csv` (or `format=`) choose NDJSON or CSV (RFC 4180; text that a spreadsheet would run as a formula gets a leading `\'`, which `leakwatch history import` removes).',
      ].join('\n\n'),
      tags: ['predictions'],
      querystring: HistoryQuerystring,
      produces: ['application/json', 'application/x-ndjson', 'text/csv'],
      response: { 200: Type.Array(Type.Ref('PredictionRecord')), ...errorResponses(400, 401, 403, 429, 500, 503) },
      security: KEY_SECURITY,
    },
    config: { scope: 'read' },
  }, async (request, reply) => {
    const query = toHistoryQuery(request.query, labels);
    const format = request.query.format ?? formatFromAccept(request.headers.accept);
    if (query.limit !== undefined) {
      // Fix the page's last record before streaming, so the Link header can go out first.
      let end;
      try {
        end = await history.pageEnd(query, query.limit);
      } catch (err) {
        throw Object.assign(Errors.storeUnavailable('read'), { cause: err });
      }
      if (end) {
        query.through = end.lastId;
        if (end.more) reply.header('link', `<${nextPageUrl(request.url, encodeCursor(query.order ?? 'asc', end.lastId))}>; rel="next"`);
      }
    }
    const vary = reply.getHeader('vary');
    reply.header('vary', vary === undefined ? 'Accept' : `${String(vary)}, Accept`);
    // Streamed: the serializer is bypassed, so records are written exactly as toRecord shapes them.
    return reply.type(CONTENT_TYPES[format]).send(recordStream(format, history.streamBatches(query)) as never);
  });
};

export default historyRoute;
