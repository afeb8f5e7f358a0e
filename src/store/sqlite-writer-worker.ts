import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { WriterInit, WriterReply, WriterRequest } from './sqlite-writer.js';

/*
 * The SQLite writer thread: runs each batch of statements in one transaction, so that the
 * commit's sync to disk (milliseconds; far more on an SD card) never blocks the event loop.
 */
const port = parentPort!;
const { path, synchronous } = workerData as WriterInit;

let db: Database.Database;
try {
  db = new Database(path);
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
} catch (err) {
  port.postMessage({ type: 'failed', message: (err as Error).message } satisfies WriterReply);
  process.exit(1);
}

const statements = new Map<string, Database.Statement>();
const prepare = (sql: string) => {
  let stmt = statements.get(sql);
  if (!stmt) {
    stmt = db.prepare(sql);
    statements.set(sql, stmt);
  }
  return stmt;
};

const runAll = db.transaction((queries: WriterRequest['queries']) =>
  queries.map(({ sql, parameters }) => {
    const stmt = prepare(sql);
    if (stmt.reader) return stmt.all(parameters);
    stmt.run(parameters);
    return [];
  }),
);

port.on('message', (msg: WriterRequest) => {
  let reply: WriterReply;
  try {
    reply = { type: 'done', id: msg.id, rows: runAll(msg.queries) };
  } catch (err) {
    const e = err as Error & { code?: string };
    reply = { type: 'error', id: msg.id, message: e.message, code: e.code };
  }
  port.postMessage(reply);
});
port.postMessage({ type: 'ready' } satisfies WriterReply);
