import { type Socket, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** One HTTP/1.1 response read off a raw socket (or what arrived before the socket closed). */
export interface RawResponse {
  /** The status code, or undefined when no status line arrived. */
  status: number | undefined;
  /** Header names lower-cased; a repeated header keeps its last value. */
  headers: Record<string, string>;
  /** The body, de-chunked when the response was chunked. */
  body: string;
  /** Every byte received. */
  raw: Buffer;
  /** The server closed (or reset) the connection. */
  closed: boolean;
  /** Our own deadline passed before a complete response or a close. */
  timedOut: boolean;
  elapsedMs: number;
}

export interface RawWriter {
  socket: Socket;
  /** True once a complete response arrived or the socket closed: stop writing. */
  done(): boolean;
}

interface Parsed {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  complete: boolean;
}

function parse(raw: Buffer): Parsed | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!m) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const rest = raw.subarray(end + 4);
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
    const chunks: Buffer[] = [];
    let pos = 0;
    for (;;) {
      const lineEnd = rest.indexOf('\r\n', pos);
      if (lineEnd < 0) return { status: Number(m[1]), headers, body: Buffer.concat(chunks), complete: false };
      const size = parseInt(rest.subarray(pos, lineEnd).toString('latin1'), 16);
      if (!Number.isFinite(size)) return { status: Number(m[1]), headers, body: Buffer.concat(chunks), complete: false };
      if (size === 0) return { status: Number(m[1]), headers, body: Buffer.concat(chunks), complete: true };
      if (lineEnd + 2 + size + 2 > rest.length) return { status: Number(m[1]), headers, body: Buffer.concat(chunks), complete: false };
      chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      pos = lineEnd + 2 + size + 2;
    }
  }
  const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  if (length === undefined) return { status: Number(m[1]), headers, body: rest, complete: false };
  return { status: Number(m[1]), headers, body: rest.subarray(0, length), complete: rest.length >= length };
}

/**
 * Connects to 127.0.0.1:port, runs `write` (which may write slowly, half-close, or destroy the
 * socket), and resolves with the first response once it is complete, or when the server closes
 * the connection, or when `timeoutMs` passes, whichever comes first. Never hangs; always
 * destroys the socket before resolving.
 */
export async function rawExchange(
  port: number,
  write: (w: RawWriter) => Promise<void> | void,
  { timeoutMs = 10_000 }: { timeoutMs?: number } = {},
): Promise<RawResponse> {
  const started = Date.now();
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  socket.setNoDelay(true);
  const received: Buffer[] = [];
  let finished = false;
  let closed = false;
  let timedOut = false;
  const result = new Promise<void>((resolve) => {
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      finish();
    }, timeoutMs);
    socket.on('data', (d: Buffer) => {
      received.push(d);
      if (parse(Buffer.concat(received))?.complete) finish();
    });
    socket.on('end', () => {
      closed = true;
      finish();
    });
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('error', () => {
      closed = true;
      finish();
    });
  });
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve);
    socket.once('error', () => resolve());
  });
  const writing = (async () => {
    try {
      await write({ socket, done: () => finished || socket.destroyed });
    } catch {
      // A write to a socket the server closed: the response (or the close) tells the story.
    }
  })();
  await result;
  socket.destroy();
  await writing;
  const raw = Buffer.concat(received);
  const parsed = parse(raw);
  return {
    status: parsed?.status,
    headers: parsed?.headers ?? {},
    body: parsed?.body.toString('utf8') ?? '',
    raw,
    closed,
    timedOut,
    elapsedMs: Date.now() - started,
  };
}

/** Writes a buffer, resolving once it is flushed to the kernel (or the socket is gone). */
export function writeAll(socket: Socket, data: Buffer | string): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed || !socket.writable) {
      resolve();
      return;
    }
    socket.write(data, () => resolve());
  });
}

/** Writes `data` a few bytes at a time with a pause between writes, until done() or the end. */
export async function writeSlowly(w: RawWriter, data: Buffer, { bytesPerWrite = 1, intervalMs = 1000 } = {}): Promise<void> {
  for (let i = 0; i < data.length && !w.done(); i += bytesPerWrite) {
    await writeAll(w.socket, data.subarray(i, i + bytesPerWrite));
    await sleep(intervalMs);
  }
}

/** The request head for a raw request; `headers` are written as given, in order. */
export function requestHead(method: string, path: string, headers: Record<string, string | number>): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join('\r\n')}\r\n\r\n`;
}
