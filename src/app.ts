import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { KeyStore } from './auth/key-store.js';
import { type Config, corsOrigins, trustProxySetting } from './config.js';
import { ErrorBody, Errors, errorBody } from './errors.js';
import { clientErrorHandler, expectationFailedHandler } from './http/client-error.js';
import { installErrorHandling } from './http/error-handler.js';
import { installSecurityHeaders } from './http/security-headers.js';
import type { Classifier } from './inference/classifier.js';
import { createAdmission } from './http/admission.js';
import { SECURITY_SCHEMES, installAccessControl, redactUrlCredentials } from './http/access.js';
import { metricsSource } from './cluster-metrics.js';
import { createMetrics } from './metrics.js';
import healthRoutes from './routes/health.js';
import metricsRoute from './routes/metrics.js';
import historyRoute from './routes/history.js';
import sensorsRoute, { SensorSummary } from './routes/sensors.js';
import predictRoute from './routes/predict.js';
import rootRoute from './routes/root.js';
import { classifyDeps } from './service/classify-upload.js';
import { createPredictor } from './service/predictor.js';
import type { HistoryStore } from './store/history-store.js';
import { PredictionRecord } from './store/record.js';

export interface AppDeps {
  config: Config;
  classifier: Classifier;
  history: HistoryStore;
  keys: KeyStore;
  /** Fastify logger options; false silences logs (tests). */
  logger?: FastifyServerOptions['logger'];
}

const REQUEST_ID = /^[\w.:-]{1,64}$/;
const HEADERS_TIMEOUT_MS = 15_000;

/**
 * Builds the whole HTTP application around its dependencies, without listening.
 * Tests call it and use `inject()`; `serve` listens.
 */
export async function buildApp({ config, classifier, history, keys, logger }: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: logger ?? {
      level: config.logLevel,
      // As Fastify's default, but a key mistakenly sent in the URL never reaches the logs.
      serializers: {
        req: (req: { method: string; url: string; hostname?: string; ip?: string }) =>
          ({ method: req.method, url: redactUrlCredentials(req.url), host: req.hostname, remoteAddress: req.ip }),
      },
    },
    requestTimeout: config.requestTimeoutMs,
    // Also at construction: set only afterwards (as Fastify does), Node keeps timing bodies out at its 60 s headersTimeout.
    // headersTimeout: a client that dribbles its headers is cut off long before the body's timeout.
    // requireHostHeader: Node would answer a request without Host with an empty 400; ours says why (below).
    http: { requestTimeout: config.requestTimeoutMs, headersTimeout: Math.min(HEADERS_TIMEOUT_MS, config.requestTimeoutMs), requireHostHeader: false },
    trustProxy: trustProxySetting(config),
    // An incoming x-request-id is kept when it is safe to log; otherwise we make one.
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false } },
    // Requests that arrive while draining get our own 503 (below), in the one error shape.
    return503OnClosing: false,
    clientErrorHandler,
    // As FastAPI (which redirects): /predict/ is /predict.
    routerOptions: { ignoreTrailingSlash: true },
    // A URL that cannot be decoded (/%zz) never reaches a route or the error handler: same body shape here.
    frameworkErrors: (err, request, reply) => {
      const apiError = err.code === 'FST_ERR_BAD_URL' ? Errors.badUrl() : Errors.badRequest('The request was rejected.');
      request.log.info({ code: apiError.code, reason: err.message }, 'request rejected');
      void (reply as FastifyReply).code(apiError.statusCode).header('x-request-id', request.id).send(errorBody(apiError, request.id));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // While draining for shutdown, newcomers get 503 and every connection closes after its
  // response, so that keep-alive clients do not hold the server open.
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    if (draining) throw Errors.shuttingDown();
    if (request.raw.httpVersionMajor === 1 && request.raw.httpVersionMinor >= 1 && request.headers.host === undefined) {
      throw Errors.badRequest('An HTTP/1.1 request needs a Host header.');
    }
  });
  app.server.on('checkExpectation', expectationFailedHandler);
  app.addHook('onSend', async (_request, reply) => {
    if (draining) void reply.header('connection', 'close');
  });
  app.addSchema(ErrorBody);
  app.addSchema(PredictionRecord);
  app.addSchema(SensorSummary);
  const metrics = createMetrics(classifier.model, () => classifier.stats());
  const unobserve = classifier.observeBatches((size, ms) => {
    metrics.batchSize.observe(size);
    metrics.batchDuration.observe(ms / 1000);
  });
  const metricsText = metricsSource(metrics.registry);
  app.addHook('onClose', async () => {
    unobserve();
    metricsText.close();
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ route, method: request.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  installErrorHandling(app, { maxUploadBytes: config.maxUploadBytes }, (code) => metrics.rejections.inc({ code }));

  // Security headers on every response. The service is usually reached over plain HTTP on a plant
  // network, so no upgrade-insecure-requests (it would break /docs there) and no HSTS.
  installSecurityHeaders(app, {
    hsts: false,
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null, 'img-src': ["'self'", 'data:'] } },
  });
  const origins = corsOrigins(config);
  if (origins !== false) {
    await app.register(cors, { origin: origins, methods: ['GET', 'POST'], allowedHeaders: ['Authorization', 'X-API-Key', 'Content-Type', 'X-Request-Id'], exposedHeaders: ['Link', 'Retry-After', 'X-Request-Id'] });
  }
  installAccessControl(app, { keys, perIpPerMinute: config.rateLimitPerIp, perKeyPerMinute: config.rateLimitPerKey });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Leakwatch',
        description: 'Classifies industrial sensor images (PNG) as Leak or Normal with an ONNX model, and records every prediction.',
        version: '0.1.0',
      },
      components: { securitySchemes: SECURITY_SCHEMES },
      tags: [
        { name: 'predictions', description: 'Classify images and read the history' },
        { name: 'health', description: 'Liveness and readiness' },
      ],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  await app.register(multipart, { limits: { fileSize: config.maxUploadBytes } });
  const predictor = createPredictor({ ...classifyDeps(config, classifier), history });
  await app.register(rootRoute);
  await app.register(healthRoutes, { classifier, history });
  await app.register(predictRoute, {
    predictor,
    maxUploadBytes: config.maxUploadBytes,
    admission: createAdmission(config.maxQueue),
    stats: () => classifier.stats(),
    metrics,
  });
  await app.register(metricsRoute, { source: metricsText });
  await app.register(historyRoute, { history, labels: classifier.model.spec.labels });
  await app.register(sensorsRoute, { history });
  return app;
}
