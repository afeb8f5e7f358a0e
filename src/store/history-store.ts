import { randomUUID } from 'node:crypto';
import { type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import type { Store } from './dialect.js';
import { apiInstant, toRecord, type NewPrediction, type PredictionRecord } from './record.js';
import type { DatabaseSchema, PredictionRow } from './schema.js';
import type { WriteQuery } from './sqlite-writer.js';

export type SortOrder = 'asc' | 'desc';

/** Filters for reading the history; every field narrows, none is required. */
export interface HistoryQuery {
  /** Records from any of these sensors. */
  sensorIds?: string[];
  prediction?: string;
  severity?: string;
  /** Inclusive lower bound, ISO 8601 UTC as stored. */
  since?: string;
  /** Inclusive upper bound, ISO 8601 UTC as stored. */
  until?: string;
  /** By id, which is the order records were written in. Default asc (oldest first). */
  order?: SortOrder;
  /** Keyset cursor: only records that come after this id in `order`. */
  after?: number;
  /** Only records up to and including this id in `order`: the end of a page, fixed before it streams. */
  through?: number;
  limit?: number;
}

/** Where a page of `limit` records ends, and whether more follow it. */
export interface PageEnd {
  lastId: number;
  more: boolean;
}

/** One sensor's totals, from the running statistics (never a scan of the history). */
export interface SensorSummary {
  sensor_id: string;
  first_seen: string;
  last_seen: string;
  count: number;
  by_prediction: Record<string, number>;
  by_severity: Record<string, number>;
  last: PredictionRecord | null;
}

/** The history of every prediction: durable writes and streamed, filtered reads. */
export interface HistoryStore {
  /**
   * Resolves once the record is committed to durable storage. Records that arrive in the same
   * turn of the event loop (the results of one inference batch) are committed in one transaction.
   */
  record(prediction: NewPrediction): Promise<PredictionRecord>;
  /** Writes records read back from an export; records whose uid is already stored are skipped. Returns how many were added. */
  importRecords(records: (NewPrediction & { uid: string })[]): Promise<number>;
  /** Streams matching records from a database cursor, on a read connection of its own. */
  stream(query: HistoryQuery): AsyncIterable<PredictionRecord>;
  /** The same, a batch of records at a time (fewer async steps per record: for bulk output). */
  streamBatches(query: HistoryQuery): AsyncIterable<PredictionRecord[]>;
  /** Where a page of `limit` matching records ends; null when nothing matches. */
  pageEnd(query: HistoryQuery, limit: number): Promise<PageEnd | null>;
  sensors(): Promise<SensorSummary[]>;
  /** Deletes up to `batch` records older than `before` (ISO 8601), oldest first, in one short transaction. Returns how many. */
  purgeBefore(before: string, batch: number): Promise<number>;
  count(): Promise<number>;
  /** How many records match (ignores `limit`). */
  countMatching(query: HistoryQuery): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

type PredictionsQuery<O> = SelectQueryBuilder<DatabaseSchema, 'predictions', O>;

function applyFilters<O>(query: PredictionsQuery<O>, q: HistoryQuery): PredictionsQuery<O> {
  const order = q.order ?? 'asc';
  let out = query.orderBy('id', order);
  if (q.sensorIds !== undefined) {
    out = q.sensorIds.length === 1 ? out.where('sensor_id', '=', q.sensorIds[0]!) : out.where('sensor_id', 'in', q.sensorIds);
  }
  if (q.prediction !== undefined) out = out.where('prediction', '=', q.prediction);
  if (q.severity !== undefined) out = out.where('severity', '=', q.severity);
  if (q.since !== undefined) out = out.where('timestamp', '>=', q.since);
  if (q.until !== undefined) out = out.where('timestamp', '<=', q.until);
  if (q.after !== undefined) out = out.where('id', order === 'asc' ? '>' : '<', q.after);
  if (q.through !== undefined) out = out.where('id', order === 'asc' ? '<=' : '>=', q.through);
  return out;
}

interface PendingWrite {
  prediction: NewPrediction & { uid: string };
  resolve: (r: PredictionRecord) => void;
  reject: (err: unknown) => void;
}

const compiled = (q: { compile(): { sql: string; parameters: readonly unknown[] } }): WriteQuery => {
  const { sql: text, parameters } = q.compile();
  return { sql: text, parameters };
};

/**
 * A sensor's running totals: the insert, a totals row made from one predictions row, and the
 * upsert; the same on both dialects (`excluded` is the row that conflicted).
 */
const STATS_INSERT = 'insert into sensor_stats (sensor_id, prediction, severity, count, first_seen, last_seen, last_id)';
const STATS_OF_ROW = 'select sensor_id, prediction, severity, 1, timestamp, timestamp, id';
const STATS_ON_CONFLICT = `on conflict (sensor_id, prediction, severity) do update set
  count = sensor_stats.count + 1,
  first_seen = case when excluded.first_seen < sensor_stats.first_seen then excluded.first_seen else sensor_stats.first_seen end,
  last_seen = case when excluded.last_seen > sensor_stats.last_seen then excluded.last_seen else sensor_stats.last_seen end,
  last_id = case when excluded.last_seen >= sensor_stats.last_seen then excluded.last_id else sensor_stats.last_id end`;

/** Records per step of a streamed read. */
const STREAM_BATCH = 250;

/** Most parameters one IN list binds (SQLite and PostgreSQL both allow far more). */
const IN_CHUNK = 500;

export function createHistoryStore(store: Store): HistoryStore {
  const { db } = store;
  let pending: PendingWrite[] = [];
  let committing = false;

  const insertRecord = (p: NewPrediction & { uid: string }, onConflictSkip: boolean) => {
    const insert = db.insertInto('predictions').values(p);
    return onConflictSkip ? insert.onConflict((oc) => oc.column('uid').doNothing()) : insert.returningAll();
  };

  // The sensor's running totals, in the same transaction as the insert.
  const bumpSensorStats = (p: NewPrediction & { uid: string }): WriteQuery =>
    sql`${sql.raw(STATS_INSERT)}
      values (${p.sensor_id}, ${p.prediction}, ${p.severity}, 1, ${p.timestamp}, ${p.timestamp}, (select id from predictions where uid = ${p.uid}))
      ${sql.raw(STATS_ON_CONFLICT)}`.compile(db);

  // Group commit: one transaction (one sync to disk) for every write waiting, one group at a time.
  const commitPending = async () => {
    while (pending.length > 0) {
      const group = pending;
      pending = [];
      try {
        const queries = group.flatMap(({ prediction }) => [compiled(insertRecord(prediction, false)), bumpSensorStats(prediction)]);
        const results = await store.writeBatch(queries);
        group.forEach((w, i) => w.resolve(toRecord((results[2 * i] as PredictionRow[])[0]!)));
      } catch (err) {
        for (const w of group) w.reject(err);
      }
    }
    committing = false;
  };

  return {
    record(prediction) {
      return new Promise((resolve, reject) => {
        pending.push({ prediction: { ...prediction, uid: prediction.uid ?? randomUUID() }, resolve, reject });
        if (!committing) {
          committing = true;
          setImmediate(() => void commitPending());
        }
      });
    },
    async importRecords(records) {
      const seen = new Set<string>();
      for (let i = 0; i < records.length; i += IN_CHUNK) {
        const uids = records.slice(i, i + IN_CHUNK).map((r) => r.uid);
        const rows = await db.selectFrom('predictions').select('uid').where('uid', 'in', uids).execute();
        for (const r of rows) if (r.uid !== null) seen.add(r.uid);
      }
      const fresh = records.filter((r) => !seen.has(r.uid) && (seen.add(r.uid), true));
      if (fresh.length === 0) return 0;
      // A concurrent import of the same file may insert some first: those are skipped (on conflict
      // do nothing), and the totals only count rows this transaction inserted.
      const queries = store.location.dialect === 'postgres'
        ? fresh.map((r) => {
          const { sql: insert, parameters } = db.insertInto('predictions').values(r).onConflict((oc) => oc.column('uid').doNothing())
            .returning(['id', 'sensor_id', 'prediction', 'severity', 'timestamp']).compile();
          const text = `with ins as (${insert}) ${STATS_INSERT} ${STATS_OF_ROW} from ins ${STATS_ON_CONFLICT} returning 1`;
          return { sql: text, parameters };
        })
        : fresh.flatMap((r) => [compiled(insertRecord(r, true)),
          sql`${sql.raw(STATS_INSERT)} ${sql.raw(STATS_OF_ROW)} from predictions where uid = ${r.uid} and changes() = 1
            ${sql.raw(STATS_ON_CONFLICT)} returning 1`.compile(db)]);
      const results = await store.writeBatch(queries);
      // One totals row per record inserted.
      const statsResults = store.location.dialect === 'postgres' ? results : results.filter((_, i) => i % 2 === 1);
      return statsResults.reduce((n, rows) => n + rows.length, 0);
    },
    async *streamBatches(query) {
      const reader = store.openReader();
      try {
        let q = applyFilters(reader.db.selectFrom('predictions').selectAll(), query);
        if (query.limit !== undefined) q = q.limit(query.limit);
        for await (const rows of reader.rows(q.compile(), STREAM_BATCH)) yield (rows as PredictionRow[]).map(toRecord);
      } finally {
        await reader.close();
      }
    },
    async *stream(query) {
      for await (const batch of this.streamBatches(query)) yield* batch;
    },
    async pageEnd(query, limit) {
      const rows = await applyFilters(db.selectFrom('predictions').select('id'), query).limit(2).offset(limit - 1).execute();
      if (rows.length > 0) return { lastId: rows[0]!.id, more: rows.length > 1 };
      // Fewer than `limit` match: the page ends at the last match.
      const last = await applyFilters(db.selectFrom('predictions').select('id'), query)
        .clearOrderBy().orderBy('id', query.order === 'desc' ? 'asc' : 'desc').limit(1).execute();
      return last.length > 0 ? { lastId: last[0]!.id, more: false } : null;
    },
    async sensors() {
      const stats = await db.selectFrom('sensor_stats').selectAll().orderBy('sensor_id').execute();
      const bySensor = new Map<string, SensorSummary & { lastKey: [string, number] }>();
      for (const s of stats) {
        let e = bySensor.get(s.sensor_id);
        if (!e) {
          e = { sensor_id: s.sensor_id, first_seen: s.first_seen, last_seen: s.last_seen, count: 0, by_prediction: {}, by_severity: {}, last: null, lastKey: [s.last_seen, s.last_id] };
          bySensor.set(s.sensor_id, e);
        }
        e.count += s.count;
        e.by_prediction[s.prediction] = (e.by_prediction[s.prediction] ?? 0) + s.count;
        e.by_severity[s.severity] = (e.by_severity[s.severity] ?? 0) + s.count;
        if (s.first_seen < e.first_seen) e.first_seen = s.first_seen;
        if (s.last_seen > e.last_seen) e.last_seen = s.last_seen;
        if (s.last_seen > e.lastKey[0] || (s.last_seen === e.lastKey[0] && s.last_id > e.lastKey[1])) e.lastKey = [s.last_seen, s.last_id];
      }
      const summaries = [...bySensor.values()];
      const ids = summaries.map((s) => s.lastKey[1]);
      const lasts = new Map<number, PredictionRecord>();
      for (let i = 0; i < ids.length; i += IN_CHUNK) {
        const rows = await db.selectFrom('predictions').selectAll().where('id', 'in', ids.slice(i, i + IN_CHUNK)).execute();
        for (const row of rows) lasts.set(row.id, toRecord(row));
      }
      // The last record may have been purged by retention; the totals still count it.
      return summaries.map(({ lastKey, ...s }) => ({
        ...s, first_seen: apiInstant(s.first_seen), last_seen: apiInstant(s.last_seen), last: lasts.get(lastKey[1]) ?? null,
      }));
    },
    async purgeBefore(before, batch) {
      const oldest = db.selectFrom('predictions').select('id').where('timestamp', '<', before).orderBy('timestamp').orderBy('id').limit(batch);
      const [deleted] = await store.writeBatch([compiled(db.deleteFrom('predictions').where('id', 'in', oldest).returning('id'))]);
      return (deleted ?? []).length;
    },
    async count() {
      const { n } = await db.selectFrom('predictions').select((eb) => eb.fn.countAll<number | string | bigint>().as('n')).executeTakeFirstOrThrow();
      return Number(n);
    },
    async countMatching(query) {
      const { n } = await applyFilters(db.selectFrom('predictions'), query).clearOrderBy()
        .select((eb) => eb.fn.countAll<number | string | bigint>().as('n')).executeTakeFirstOrThrow();
      return Number(n);
    },
    async ping() {
      await db.selectFrom('predictions').select('id').limit(1).execute();
      // An empty batch: proves the writer answers, without writing anything (except while the
      // SQLite disk is full, when it makes a one-page test write: see sqlite-writer-worker).
      await store.writeBatch([]);
    },
    close: () => store.close(),
  };
}

/** For callers that hold a Kysely instance of the schema (tests, tools). */
export type HistoryDb = Kysely<DatabaseSchema>;
