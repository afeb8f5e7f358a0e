import { createHash } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { loadConfig, specFallbacks } from '../src/config.js';
import { startModuleWorker } from '../src/workers/module-worker.js';

/*
 * The floor: the least a server can do and still answer the spec's POST /predict with a durable
 * record. node:http without a framework; the file part found by searching for the boundary (no
 * validation, no limits, no auth, no metrics, no logging); one inference worker running each image
 * alone as it arrives (the service's decode, preprocessing and ONNX Runtime session, 2 threads,
 * spinning during runs); the record committed by better-sqlite3 on the event loop itself (WAL,
 * synchronous=FULL: fsync'd, as the service's are) before the response.
 * Not a server to run: a yardstick for what the service's own path costs (bench/floor.ts).
 * Driven over IPC: {type:'start', modelPath, dbPath} → {type:'listening', url}; {type:'exit'}.
 */

type Request = { type: 'start'; modelPath: string; dbPath: string } | { type: 'exit' };
const send = (msg: unknown) => process.send?.(msg);

async function start(modelPath: string, dbPath: string): Promise<string> {
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS predictions (id INTEGER PRIMARY KEY, prediction TEXT, confidence REAL, timestamp TEXT, sensor_id TEXT, image_sha256 TEXT)');
  const insert = db.prepare('INSERT INTO predictions (prediction, confidence, timestamp, sensor_id, image_sha256) VALUES (?, ?, ?, ?, ?)');

  const worker = startModuleWorker(import.meta.url, 'floor-worker', { modelPath, fallbacks: specFallbacks(loadConfig({}, {})) });
  await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
  // One request at a time reaches the worker (the floor is measured at one client), in order.
  const waiting: ((p: [number, number]) => void)[] = [];
  worker.on('message', (msg: { probabilities: [number, number] }) => waiting.shift()?.(msg.probabilities));
  const classify = (png: Uint8Array) => new Promise<[number, number]>((resolve) => {
    waiting.push(resolve);
    worker.postMessage(png);
  });

  const predict = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const boundary = `\r\n--${/boundary=([^;\s]+)/.exec(req.headers['content-type'] ?? '')?.[1] ?? ''}`;
    const field = (name: string) => {
      const head = body.indexOf(`name="${name}"`);
      const start = body.indexOf('\r\n\r\n', head) + 4;
      return body.subarray(start, body.indexOf(boundary, start));
    };
    const png = field('file');
    const sensorId = field('sensor_id').toString();
    const p = await classify(png);
    const isLeak = p[1] >= 0.5;
    const record = {
      prediction: isLeak ? 'Leak' : 'Normal',
      confidence: isLeak ? p[1] : p[0],
      timestamp: new Date().toISOString(),
      sensor_id: sensorId,
      image_sha256: createHash('sha256').update(png).digest('hex'),
    };
    const { lastInsertRowid } = insert.run(record.prediction, record.confidence, record.timestamp, record.sensor_id, record.image_sha256);
    const json = JSON.stringify({ id: Number(lastInsertRowid), ...record });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    res.end(json);
  };

  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/predict') return void predict(req, res);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

process.on('message', (msg: Request) => {
  if (msg.type === 'exit') process.exit(0);
  start(msg.modelPath, msg.dbPath).then(
    (url) => send({ type: 'listening', url }),
    (err: unknown) => send({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
  );
});
