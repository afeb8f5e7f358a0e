import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, Errors, errorBody } from '../errors.js';
import { ClassifierUnavailableError, InferenceError } from '../inference/classifier.js';

/** Errors raised by Fastify, @fastify/multipart and busboy, mapped to our catalogue by code. */
const BY_CODE: Record<string, (err: FastifyError, limits: { maxUploadBytes: number }) => ApiError> = {
  FST_INVALID_MULTIPART_CONTENT_TYPE: () => Errors.notMultipart(),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => Errors.notMultipart(),
  FST_REQ_FILE_TOO_LARGE: (_e, l) => Errors.uploadTooLarge(l.maxUploadBytes),
  FST_ERR_CTP_BODY_TOO_LARGE: (_e, l) => Errors.uploadTooLarge(l.maxUploadBytes),
  FST_PARTS_LIMIT: () => Errors.tooManyParts('parts'),
  FST_FILES_LIMIT: () => Errors.tooManyParts('file parts'),
  FST_FIELDS_LIMIT: () => Errors.tooManyParts('fields'),
  FST_PROTO_VIOLATION: () => Errors.malformedMultipart('a field name is not allowed'),
  FST_MP_PREMATURE_CLOSE: () => Errors.malformedMultipart('the body ended before the last part was complete'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => Errors.badRequest('The Content-Length header does not match the body.'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => Errors.badRequest('The JSON body is empty.'),
  FST_ERR_CTP_INVALID_JSON_BODY: () => Errors.badRequest('The JSON body is not valid JSON.'),
  FST_ERR_CTP_EMPTY_TYPE: () => Errors.notMultipart(),
};

// busboy and @fastify/multipart raise plain Errors for broken multipart framing.
const MULTIPART_FRAMING = /^(Multipart: Boundary not found|Unexpected end of (multipart data|form)|Malformed part header|Part terminated early)/;

const GENERIC_4XX: Record<number, string> = {
  400: 'The request is malformed.',
  404: 'Not found.',
  405: 'Method not allowed.',
  408: 'The request took too long to arrive.',
  413: 'The request is too large.',
  415: 'Unsupported media type.',
  431: 'The request headers are too large.',
};

function validationError(err: FastifyError): ApiError {
  const first = err.validation?.[0];
  const path = first?.instancePath.replace(/^\//, '') || (first?.params as { missingProperty?: string } | undefined)?.missingProperty || 'parameter';
  return Errors.invalidParameter(path, first?.message ?? 'invalid value');
}

/**
 * The client hung up mid-upload: reading its body failed with a reset or an abort, which nobody
 * will read an answer to. Only stream errors count: any other failure is ours, hang-up or not.
 */
const STREAM_ABORT_CODES = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE']);
const clientWentAway = (err: FastifyError) => STREAM_ABORT_CODES.has(err.code) || err.message === 'aborted';

export function toApiError(err: FastifyError, limits: { maxUploadBytes: number }): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof InferenceError) return Errors.inferenceFailed();
  if (err instanceof ClassifierUnavailableError) return Errors.notReady('no inference worker is available');
  if (err.validation) return validationError(err);
  const mapped = BY_CODE[err.code];
  if (mapped) return mapped(err, limits);
  if (MULTIPART_FRAMING.test(err.message)) return Errors.malformedMultipart('broken multipart framing or missing boundary');
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) return new ApiError(status, 'bad_request', GENERIC_4XX[status] ?? 'The request was rejected.');
  return Errors.internal();
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** One handler for every error: a `{code, message}` body, never a stack trace, library text or path. */
export function installErrorHandling(
  app: FastifyInstance,
  limits: { maxUploadBytes: number },
  onError: (code: string) => void = () => undefined,
): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const mapped = toApiError(err, limits);
    const apiError = mapped.code === 'internal_error' && clientWentAway(err) ? Errors.clientClosed() : mapped;
    onError(apiError.code);
    if (apiError.statusCode < 500) {
      // The client's doing (bad input, a hang-up): no stack, no alarm.
      request.log.info({ code: apiError.code, reason: err.message }, 'request rejected');
    } else if (err instanceof ApiError && err.cause === undefined) {
      // Expected refusals of ours (overload, shutting down, not ready).
      request.log.warn({ code: apiError.code, reason: err.message }, 'request rejected');
    } else {
      request.log.error({ err: err.cause ?? err, code: apiError.code }, 'request failed');
    }
    void reply.code(apiError.statusCode).headers(apiError.headers).send(errorBody(apiError, request.id));
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = METHODS.filter((method) => app.hasRoute({ method, url: path }));
    const err = allowed.length > 0 ? Errors.methodNotAllowed(request.method, path, allowed.join(', ')) : Errors.notFound(request.method, request.url);
    onError(err.code);
    void reply.code(err.statusCode).headers(err.headers).send(errorBody(err, request.id));
  });
}
