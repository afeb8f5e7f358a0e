/** Builds multipart/form-data bodies by hand, so tests can also build broken ones. */
export interface Part {
  name: string;
  value: string | Buffer;
  filename?: string;
  contentType?: string;
}

export const BOUNDARY = '----leakwatch-test-boundary-7MA4YWxkTrZu0gW';

export function multipartBody(parts: Part[], boundary = BOUNDARY): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    const type = p.contentType ?? (p.filename !== undefined ? 'application/octet-stream' : undefined);
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type ? `Content-Type: ${type}\r\n` : ''}\r\n`));
    chunks.push(typeof p.value === 'string' ? Buffer.from(p.value) : p.value);
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

export const multipartHeaders = (boundary = BOUNDARY) => ({ 'content-type': `multipart/form-data; boundary=${boundary}` });

/** The usual predict form: a PNG file part and a sensor_id field. */
export function predictForm(png: Buffer, sensorId = 'sensor-1', filename = 'frame.png'): { payload: Buffer; headers: Record<string, string> } {
  return {
    payload: multipartBody([
      { name: 'file', value: png, filename, contentType: 'image/png' },
      { name: 'sensor_id', value: sensorId },
    ]),
    headers: multipartHeaders(),
  };
}
