import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../workers/module-worker.js';

/** A statement compiled by Kysely, as it crosses to the writer thread. */
export interface WriteQuery {
  sql: string;
  parameters: readonly unknown[];
}

export interface WriterInit {
  path: string;
  synchronous: 'FULL' | 'NORMAL';
}
export interface WriterRequest {
  id: number;
  queries: WriteQuery[];
}
export type WriterReply =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'done'; id: number; rows: unknown[][] }
  | { type: 'error'; id: number; message: string; code: string | undefined };

/** Runs batches of writes, each in one transaction, committed to disk before it resolves. */
export interface BatchWriter {
  /**
   * A batch that fails (SQLITE_FULL on a full disk, say) is rolled back whole and rejects; the
   * next one tries again. An empty batch writes nothing, except after a commit failed with
   * SQLITE_FULL: then it commits a one-page probe, and rejects while even that does not fit.
   */
  write(queries: WriteQuery[]): Promise<unknown[][]>;
  close(): Promise<void>;
}

export class WriterError extends Error {
  override name = 'WriterError';
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

interface Waiting {
  resolve: (rows: unknown[][]) => void;
  reject: (err: Error) => void;
}

async function spawnWriter(init: WriterInit): Promise<Worker> {
  const worker = startModuleWorker(import.meta.url, 'sqlite-writer-worker', init);
  const [first] = (await once(worker, 'message')) as [WriterReply];
  if (first.type !== 'ready') {
    await worker.terminate();
    throw new WriterError(first.type === 'failed' ? first.message : 'the SQLite writer did not start');
  }
  return worker;
}

/** Starts the writer thread; a writer that dies fails its batch and is started again for the next. */
export async function startSqliteWriter(init: WriterInit): Promise<BatchWriter> {
  const waiting = new Map<number, Waiting>();
  let nextId = 0;
  let closing = false;
  let current: Promise<Worker> | undefined;

  const attach = (worker: Worker) => {
    worker.on('message', (msg: WriterReply) => {
      if (msg.type !== 'done' && msg.type !== 'error') return;
      const w = waiting.get(msg.id);
      waiting.delete(msg.id);
      if (msg.type === 'done') w?.resolve(msg.rows);
      else w?.reject(new WriterError(msg.message, msg.code));
    });
    worker.on('exit', (code) => {
      for (const w of waiting.values()) w.reject(new WriterError(`the SQLite writer exited with code ${code}`));
      waiting.clear();
      current = undefined;
    });
    return worker;
  };
  const worker = () => (current ??= spawnWriter(init).then(attach));

  await worker();
  const inFlight = new Set<Promise<unknown>>();
  return {
    async write(queries) {
      if (closing) throw new WriterError('the history store is closed');
      const w = await worker();
      const id = ++nextId;
      const done = new Promise<unknown[][]>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        w.postMessage({ id, queries } satisfies WriterRequest);
      });
      inFlight.add(done);
      try {
        return await done;
      } finally {
        inFlight.delete(done);
      }
    },
    async close() {
      closing = true;
      // Let the commits under way finish: their callers were promised durability.
      await Promise.allSettled(inFlight);
      if (current) await (await current).terminate();
    },
  };
}
