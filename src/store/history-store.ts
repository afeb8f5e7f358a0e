import type { Kysely } from 'kysely';
import type { Store } from './dialect.js';
import { toRecord, type NewPrediction, type PredictionRecord } from './record.js';
import type { DatabaseSchema, PredictionRow } from './schema.js';

/** Filters for reading the history; every field narrows, none is required. */
export interface HistoryQuery {
  sensorId?: string;
  prediction?: string;
  severity?: string;
  /** Inclusive lower bound, ISO 8601 UTC as stored. */
  since?: string;
  /** Inclusive upper bound, ISO 8601 UTC as stored. */
  until?: string;
  limit?: number;
}

/** The history of every prediction: durable writes and streamed, filtered reads. */
export interface HistoryStore {
  /**
   * Resolves once the record is committed to durable storage. Records that arrive in the same
   * turn of the event loop (the results of one inference batch) are committed in one transaction.
   */
  record(prediction: NewPrediction): Promise<PredictionRecord>;
  /** Streams matching records, oldest first, from a read connection of its own. */
  stream(query: HistoryQuery): AsyncIterable<PredictionRecord>;
  count(): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

function filtered(db: Kysely<DatabaseSchema>, q: HistoryQuery) {
  let query = db.selectFrom('predictions').selectAll().orderBy('id', 'asc');
  if (q.sensorId !== undefined) query = query.where('sensor_id', '=', q.sensorId);
  if (q.prediction !== undefined) query = query.where('prediction', '=', q.prediction);
  if (q.severity !== undefined) query = query.where('severity', '=', q.severity);
  if (q.since !== undefined) query = query.where('timestamp', '>=', q.since);
  if (q.until !== undefined) query = query.where('timestamp', '<=', q.until);
  if (q.limit !== undefined) query = query.limit(q.limit);
  return query;
}

interface PendingWrite {
  prediction: NewPrediction;
  resolve: (r: PredictionRecord) => void;
  reject: (err: unknown) => void;
}

export function createHistoryStore(store: Store): HistoryStore {
  const { db } = store;
  let pending: PendingWrite[] = [];
  let committing = false;

  // Group commit: one transaction (one sync to disk) for every write waiting, one group at a time.
  const commitPending = async () => {
    while (pending.length > 0) {
      const group = pending;
      pending = [];
      try {
        const queries = group.map(({ prediction }) => {
          const { sql, parameters } = db.insertInto('predictions').values(prediction).returningAll().compile();
          return { sql, parameters };
        });
        const results = await store.writeBatch(queries);
        group.forEach((w, i) => w.resolve(toRecord((results[i] as PredictionRow[])[0]!)));
      } catch (err) {
        for (const w of group) w.reject(err);
      }
    }
    committing = false;
  };

  return {
    record(prediction) {
      return new Promise((resolve, reject) => {
        pending.push({ prediction, resolve, reject });
        if (!committing) {
          committing = true;
          setImmediate(() => void commitPending());
        }
      });
    },
    async *stream(query) {
      const reader = store.openReader();
      try {
        for await (const row of filtered(reader, query).stream()) yield toRecord(row);
      } finally {
        await reader.destroy();
      }
    },
    async count() {
      const { n } = await db.selectFrom('predictions').select((eb) => eb.fn.countAll<number | string | bigint>().as('n')).executeTakeFirstOrThrow();
      return Number(n);
    },
    async ping() {
      await db.selectFrom('predictions').select('id').limit(1).execute();
      // An empty batch: proves the writer thread answers, without writing anything.
      await store.writeBatch([]);
    },
    close: () => store.close(),
  };
}
