import Type, { type Static } from 'typebox';

/** The one error body every failure answers with. */
export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'Stable, machine-readable error code; see README' }),
    message: Type.String({ description: 'What went wrong and how to fix it' }),
    request_id: Type.Optional(Type.String({ description: 'The request id, also in the x-request-id header and the logs' })),
  },
  { $id: 'ErrorBody', title: 'Error' },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** An error we throw on purpose: its status, code and message are safe to show to the client. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/**
 * A bad query parameter. Which one and why are kept apart from the message, for a caller that
 * words them its own way (the CLI names its flag instead).
 */
export class InvalidParameterError extends ApiError {
  constructor(readonly parameter: string, readonly reason: string) {
    super(400, 'invalid_parameter', `Invalid query parameter '${parameter}': ${reason}.`);
  }
}

const MiB = 1024 * 1024;
const formatBytes = (n: number) => (n % MiB === 0 ? `${n / MiB} MiB` : `${n} bytes`);

/** The catalogue: every error the API answers with, declared once. */
export const Errors = {
  missingField: (field: string) =>
    new ApiError(422, 'missing_field', `The multipart form field '${field}' is required.`),
  duplicateField: (field: string) =>
    new ApiError(422, 'duplicate_field', `The multipart form field '${field}' was sent more than once; send it exactly once.`),
  wrongFieldKind: (field: 'file' | 'sensor_id') =>
    new ApiError(422, 'invalid_field', field === 'file'
      ? "The form field 'file' must be a file upload (a part with a filename), not a text field."
      : "The form field 'sensor_id' must be a text field, not a file upload."),
  invalidSensorId: (reason: string) =>
    new ApiError(422, 'invalid_sensor_id', `Invalid sensor_id: ${reason}.`),
  notMultipart: () =>
    new ApiError(415, 'unsupported_media_type', "The request body must be multipart/form-data with a 'file' part and a 'sensor_id' field."),
  malformedMultipart: (reason: string) =>
    new ApiError(400, 'malformed_multipart', `The multipart body could not be parsed: ${reason}.`),
  tooManyParts: (what: string) =>
    new ApiError(413, 'too_many_parts', `The multipart body has too many ${what}; a predict form has one file and one sensor_id.`),
  notPng: () =>
    new ApiError(415, 'unsupported_image_type', 'The uploaded file is not a PNG image (its bytes do not start with the PNG signature).'),
  emptyFile: () => new ApiError(400, 'empty_file', 'The uploaded file is empty.'),
  invalidPng: (reason: string) =>
    new ApiError(400, 'invalid_png', `The uploaded PNG could not be decoded: ${reason}.`),
  uploadTooLarge: (limit: number) =>
    // Connection: close, so that the rest of the upload is not read only to be thrown away.
    new ApiError(413, 'upload_too_large', `The upload exceeds the limit of ${formatBytes(limit)}.`, { connection: 'close' }),
  imageTooLarge: (width: number, height: number, limit: number) =>
    new ApiError(413, 'image_too_large', `The image is ${width}×${height} pixels, over the limit of ${limit} pixels.`),
  invalidParameter: (name: string, reason: string) => new InvalidParameterError(name, reason),
  badRequest: (reason: string) => new ApiError(400, 'bad_request', reason),
  badUrl: () => new ApiError(400, 'bad_request', 'The URL is malformed (an invalid percent-encoding).'),
  /** `allow`: the route's methods, as the Allow header lists them ("GET, HEAD"). */
  methodNotAllowed: (method: string, path: string, allow: string) =>
    new ApiError(405, 'method_not_allowed', `${method} is not allowed on ${path.slice(0, 200)}; it takes ${allow}.`, { allow }),
  clientClosed: () => new ApiError(400, 'client_closed', 'The client closed the connection before the request was complete.'),
  unauthorized: (reason: string) =>
    new ApiError(401, 'unauthorized', `Unauthorized: ${reason}.`, { 'www-authenticate': 'Bearer realm="leakwatch"' }),
  forbidden: (needed: string, held: string) =>
    new ApiError(403, 'forbidden', `This API key has scope '${held}'; this route needs '${needed}' (or 'admin').`),
  rateLimited: (retryAfterSeconds: number, who: string) =>
    new ApiError(429, 'rate_limited', `Too many requests from ${who}; nothing was recorded. Retry in ${retryAfterSeconds} s.`, { 'retry-after': String(retryAfterSeconds) }),
  notFound: (method: string, url: string) =>
    new ApiError(404, 'not_found', `No route for ${method} ${(url.split('?')[0] ?? '').slice(0, 200)}.`),
  notReady: (reason: string) => new ApiError(503, 'not_ready', `The service is not ready: ${reason}. Retry later.`, { 'retry-after': '1' }),
  overloaded: (retryAfterSeconds: number) =>
    // Connection: close, so the upload that follows is not read only to be thrown away.
    new ApiError(503, 'overloaded', `The service is at capacity; nothing was recorded. Retry in ${retryAfterSeconds} s.`, { 'retry-after': String(retryAfterSeconds), connection: 'close' }),
  shuttingDown: () =>
    new ApiError(503, 'shutting_down', 'The service is shutting down; nothing was recorded. Retry on another instance or shortly.', { 'retry-after': '5' }),
  storeUnavailable: (doing: 'record' | 'read' = 'record') =>
    new ApiError(503, 'store_unavailable', doing === 'record'
      ? 'The prediction could not be recorded because the history store is unavailable; nothing was saved. Retry later.'
      : 'The history store is unavailable. Retry later.', { 'retry-after': '5' }),
  metricsUnavailable: () =>
    new ApiError(503, 'metrics_unavailable', 'The metrics of the other server processes could not be collected. Retry shortly.', { 'retry-after': '1' }),
  inferenceFailed: () =>
    new ApiError(500, 'inference_failed', 'The model failed to classify this image. The failure has been logged.'),
  internal: () => new ApiError(500, 'internal_error', 'An internal error occurred. It has been logged.'),
} as const;

/** The body an ApiError is answered with. */
export const errorBody = (err: ApiError, requestId: string): ErrorBody => ({ code: err.code, message: err.message, request_id: requestId });

/** Responses every route may produce, for OpenAPI. */
export const errorResponses = (...statuses: number[]) =>
  // Always JSON, whatever the route's success responses are (history: NDJSON or CSV too).
  Object.fromEntries(statuses.map((s) => [s, { description: 'Error', content: { 'application/json': { schema: Type.Ref('ErrorBody') } } }]));
