import type { Multipart } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { Errors } from '../errors.js';
import { SENSOR_ID_MAX_LENGTH, sensorIdProblem } from '../policy/sensor-id.js';
import type { Upload } from '../service/predictor.js';

const FIELD_SIZE_LIMIT = 16 * 1024;

/**
 * Rejects once more than `maxBytes` of body has arrived, as a Content-Length over it is refused
 * before reading: without one (chunked), busboy's limits bound each part, but not the bytes
 * around them (a preamble, an epilogue, parts it skips). `settle` stops watching.
 */
function bodyCap(request: FastifyRequest, maxBytes: number): { exceeded: Promise<never>; settle: () => void } {
  let received = 0;
  let onData: (chunk: Buffer) => void = () => undefined;
  const exceeded = new Promise<never>((_, reject) => {
    onData = (chunk) => {
      received += chunk.length;
      if (received <= maxBytes) return;
      request.raw.off('data', onData);
      reject(Errors.uploadTooLarge(maxBytes));
    };
  });
  exceeded.catch(() => undefined); // observed by the race below; never unhandled
  request.raw.on('data', onData);
  return { exceeded, settle: () => request.raw.off('data', onData) };
}

/**
 * Reads the predict form: exactly one `file` part and one `sensor_id` field. Other fields are
 * ignored (never stored), other file parts are drained and ignored. The file is buffered up
 * to `maxBytes`, and so is the whole body; beyond either the request gets 413.
 */
export async function readUpload(request: FastifyRequest, maxBytes: number): Promise<Upload> {
  // busboy reads `boundary=` (empty) as a form with no parts; it is a framing error.
  if (/;\s*boundary=("")?\s*(;|$)/i.test(request.headers['content-type'] ?? '')) {
    throw Errors.malformedMultipart('the boundary parameter is empty');
  }
  const parts = request.parts({
    limits: { fileSize: maxBytes, files: 4, fields: 16, parts: 24, fieldSize: FIELD_SIZE_LIMIT, headerPairs: 64 },
  });
  // Watched from when busboy reads the body (a 'data' listener sets the stream flowing).
  const cap = bodyCap(request, maxBytes);
  try {
    return await readParts(parts, cap.exceeded);
  } finally {
    cap.settle();
  }
}

async function readParts(parts: AsyncIterableIterator<Multipart>, exceeded: Promise<never>): Promise<Upload> {
  let bytes: Buffer | undefined;
  let sensorId: string | undefined;
  const iterator = parts[Symbol.asyncIterator]();
  for (;;) {
    const next = await Promise.race([iterator.next(), exceeded]);
    if (next.done) break;
    const part = next.value;
    if (part.type === 'file') {
      if (part.fieldname === 'sensor_id') throw Errors.wrongFieldKind('sensor_id');
      if (part.fieldname !== 'file') {
        part.file.resume();
        continue;
      }
      if (bytes !== undefined) throw Errors.duplicateField('file');
      bytes = await Promise.race([part.toBuffer(), exceeded]);
    } else if (part.fieldname === 'sensor_id') {
      if (sensorId !== undefined) throw Errors.duplicateField('sensor_id');
      if (part.valueTruncated) throw Errors.invalidSensorId(`it is longer than ${SENSOR_ID_MAX_LENGTH} characters`);
      sensorId = typeof part.value === 'string' ? part.value : String(part.value);
    } else if (part.fieldname === 'file') {
      throw Errors.wrongFieldKind('file');
    }
  }
  if (bytes === undefined) throw Errors.missingField('file');
  if (sensorId === undefined) throw Errors.missingField('sensor_id');
  const problem = sensorIdProblem(sensorId);
  if (problem) throw Errors.invalidSensorId(problem);
  return { bytes, sensorId };
}
