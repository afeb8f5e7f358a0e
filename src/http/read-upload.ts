import type { FastifyRequest } from 'fastify';
import { Errors } from '../errors.js';
import { SENSOR_ID_MAX_LENGTH, sensorIdProblem } from '../policy/sensor-id.js';
import type { Upload } from '../service/predictor.js';

const FIELD_SIZE_LIMIT = 16 * 1024;

/**
 * Reads the predict form: exactly one `file` part and one `sensor_id` field. Other fields are
 * ignored (never stored), other file parts are drained and ignored. The file is buffered up
 * to `maxBytes`; beyond that busboy stops and the request gets 413.
 */
export async function readUpload(request: FastifyRequest, maxBytes: number): Promise<Upload> {
  // busboy reads `boundary=` (empty) as a form with no parts; it is a framing error.
  if (/;\s*boundary=("")?\s*(;|$)/i.test(request.headers['content-type'] ?? '')) {
    throw Errors.malformedMultipart('the boundary parameter is empty');
  }
  let bytes: Buffer | undefined;
  let sensorId: string | undefined;
  const parts = request.parts({
    limits: { fileSize: maxBytes, files: 4, fields: 16, parts: 24, fieldSize: FIELD_SIZE_LIMIT, headerPairs: 64 },
  });
  for await (const part of parts) {
    if (part.type === 'file') {
      if (part.fieldname !== 'file') {
        part.file.resume();
        continue;
      }
      if (bytes !== undefined) throw Errors.duplicateField('file');
      bytes = await part.toBuffer();
    } else if (part.fieldname === 'sensor_id') {
      if (sensorId !== undefined) throw Errors.duplicateField('sensor_id');
      if (part.valueTruncated) throw Errors.invalidSensorId(`it is longer than ${SENSOR_ID_MAX_LENGTH} characters`);
      sensorId = typeof part.value === 'string' ? part.value : String(part.value);
    } else if (part.fieldname === 'file') {
      throw Errors.badRequest("The form field 'file' must be a file upload (a part with a filename), not a text field.");
    }
  }
  if (bytes === undefined) throw Errors.missingField('file');
  if (sensorId === undefined) throw Errors.missingField('sensor_id');
  const problem = sensorIdProblem(sensorId);
  if (problem) throw Errors.invalidSensorId(problem);
  return { bytes, sensorId };
}
