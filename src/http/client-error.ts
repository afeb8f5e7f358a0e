import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorBody } from '../errors.js';

/**
 * Answers errors that Node's HTTP parser raises before Fastify sees a request (malformed
 * framing, header overflow, timeouts) in the one error shape, then closes the connection.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  let status = 400;
  let body: Omit<ErrorBody, 'request_id'> = { code: 'bad_request', message: 'The HTTP request is malformed.' };
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    body = { code: 'headers_too_large', message: 'The request headers are too large.' };
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'HPE_HEADER_TIMEOUT') {
    status = 408;
    body = { code: 'request_timeout', message: 'The request took too long to arrive.' };
  }
  const requestId = randomUUID();
  const payload = JSON.stringify({ ...body, request_id: requestId });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(payload)}\r\n` +
      `x-request-id: ${requestId}\r\n` +
      'Connection: close\r\n\r\n' +
      payload,
  );
}
