import { randomUUID } from 'node:crypto';
import { type IncomingMessage, STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorBody } from '../errors.js';

/**
 * An error answered outside Fastify, in the one error shape: its payload, and the headers that
 * close the connection (what follows on it cannot be trusted to be a request).
 */
function rawError(body: Omit<ErrorBody, 'request_id'>): { payload: string; headers: Record<string, string> } {
  const requestId = randomUUID();
  const payload = JSON.stringify({ ...body, request_id: requestId });
  return {
    payload,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(payload)), 'x-request-id': requestId, Connection: 'close' },
  };
}

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
  const { payload, headers } = rawError(body);
  const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${head}\r\n${payload}`);
}

/** An Expect other than 100-continue, which Node would answer with an empty 417 (the server's 'checkExpectation'). */
export function expectationFailedHandler(req: IncomingMessage, res: ServerResponse): void {
  const { payload, headers } = rawError({ code: 'bad_request', message: `Expect: ${String(req.headers.expect).slice(0, 100)} is not supported; only 100-continue is.` });
  res.writeHead(417, headers).end(payload);
}
