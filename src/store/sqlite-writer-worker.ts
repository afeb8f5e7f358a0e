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

/*
 * A full disk. A commit that fails with SQLITE_FULL is rolled back (nothing of it is stored, so its
 * callers get an error, never a record), and the next one simply tries again: the service resumes
 * by itself once space is freed. Until a commit succeeds again, the empty batch (the readiness
 * ping, which otherwise writes nothing) commits a real one-page write: it rewrites the header's
 * user_version with its own value, so readiness reports the disk full until a commit fits again.
 */
let full = false;
const probeCommit = db.transaction(() => {
  const version = db.pragma('user_version', { simple: true }) as number;
  db.pragma(`user_version = ${version}`);
});

const run = (queries: WriterRequest['queries']) => {
  if (queries.length === 0 && full) probeCommit();
  return runAll(queries);
};

port.on('message', (msg: WriterRequest) => {
  let reply: WriterReply;
  try {
    reply = { type: 'done', id: msg.id, rows: run(msg.queries) };
    full = false;
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'SQLITE_FULL') full = true;
    reply = { type: 'error', id: msg.id, message: e.message, code: e.code };
  }
  port.postMessage(reply);
});
port.postMessage({ type: 'ready' } satisfies WriterReply);
