import { type ColumnDefinitionBuilder, type Kysely, type Migration, type MigrationProvider, Migrator, PostgresAdapter, sql } from 'kysely';

// Migrations must not depend on today's table types, which describe the latest schema.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

const isPostgres = (db: AnyDb) => db.getExecutor().adapter instanceof PostgresAdapter;

/** An id assigned on insert. SQLite: an integer primary key is the rowid. PostgreSQL: a bigint identity. */
const idColumn = (db: AnyDb) => (isPostgres(db)
  ? ['bigint', (c: ColumnDefinitionBuilder) => c.primaryKey().generatedByDefaultAsIdentity()] as const
  : ['integer', (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement()] as const);

const FILTER_INDEXES: [string, string[]][] = [
  ['predictions_sensor_id_prediction_id', ['sensor_id', 'prediction', 'id']],
  ['predictions_sensor_id_severity_id', ['sensor_id', 'severity', 'id']],
  ['predictions_prediction_id', ['prediction', 'id']],
  ['predictions_severity_id', ['severity', 'id']],
];

/**
 * Versioned migrations, in code so they ship inside the build. Names sort in the order they apply;
 * never edit one that has shipped: add a new one.
 */
export const MIGRATIONS: Record<string, Migration> = {
  '2026-11-26-001-create-predictions': {
    async up(db: AnyDb) {
      const [idType, id] = idColumn(db);
      await db.schema
        .createTable('predictions')
        .addColumn('id', idType, id)
        .addColumn('timestamp', 'text', (c) => c.notNull())
        .addColumn('sensor_id', 'text', (c) => c.notNull())
        .addColumn('prediction', 'text', (c) => c.notNull())
        .addColumn('confidence', 'double precision', (c) => c.notNull())
        .addColumn('p_leak', 'double precision', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('leak_threshold', 'double precision', (c) => c.notNull())
        .addColumn('severity_low_threshold', 'double precision', (c) => c.notNull())
        .addColumn('severity_high_threshold', 'double precision', (c) => c.notNull())
        .addColumn('image_sha256', 'text', (c) => c.notNull())
        .addColumn('image_width', 'integer', (c) => c.notNull())
        .addColumn('image_height', 'integer', (c) => c.notNull())
        .addColumn('model_sha256', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('predictions_timestamp').on('predictions').column('timestamp').execute();
      await db.schema.createIndex('predictions_sensor_id_id').on('predictions').columns(['sensor_id', 'id']).execute();
    },
    async down(db: AnyDb) {
      await sql`drop table predictions`.execute(db);
    },
  },
  '2026-11-27-001-record-uid-and-sensor-stats': {
    async up(db: AnyDb) {
      // uid: a record's identity across stores, so that an import run twice adds nothing the second time.
      await db.schema.alterTable('predictions').addColumn('uid', 'text').execute();
      await (isPostgres(db)
        ? sql`update predictions set uid = md5(random()::text || id::text || clock_timestamp()::text) where uid is null`
        : sql`update predictions set uid = lower(hex(randomblob(16))) where uid is null`).execute(db);
      await db.schema.createIndex('predictions_uid').on('predictions').column('uid').unique().execute();
      // One row per sensor, prediction and severity, kept by every insert: GET /sensors reads these, never the history.
      await db.schema
        .createTable('sensor_stats')
        .addColumn('sensor_id', 'text', (c) => c.notNull())
        .addColumn('prediction', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('count', 'bigint', (c) => c.notNull())
        .addColumn('first_seen', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text', (c) => c.notNull())
        .addColumn('last_id', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('sensor_stats_pk', ['sensor_id', 'prediction', 'severity'])
        .execute();
      await sql`insert into sensor_stats (sensor_id, prediction, severity, count, first_seen, last_seen, last_id)
        select sensor_id, prediction, severity, count(*), min(timestamp), max(timestamp), max(id)
        from predictions group by sensor_id, prediction, severity`.execute(db);
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('sensor_stats').execute();
      await db.schema.dropIndex('predictions_uid').execute();
      await db.schema.alterTable('predictions').dropColumn('uid').execute();
    },
  },
  '2026-11-27-002-api-keys': {
    async up(db: AnyDb) {
      const [idType, id] = idColumn(db);
      await db.schema
        .createTable('api_keys')
        .addColumn('id', idType, id)
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        // The key's public part: how it is found and shown. Only a hash of the whole key is kept.
        .addColumn('prefix', 'text', (c) => c.notNull().unique())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('api_keys').execute();
    },
  },
  '2026-11-27-003-history-filter-indexes': {
    // "This sensor's leaks, newest first" and "every high-severity record": a page reads only the
    // index entries that match, even when the value is rare (measured: 35 ms → under 5 ms for one
    // sensor with no Leak among 10,000 of its records).
    async up(db: AnyDb) {
      for (const [name, columns] of FILTER_INDEXES) await db.schema.createIndex(name).on('predictions').columns(columns).execute();
    },
    async down(db: AnyDb) {
      for (const [name] of FILTER_INDEXES) await db.schema.dropIndex(name).execute();
    },
  },
};

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(MIGRATIONS) };

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Applies every pending migration; returns the names applied. */
export async function migrateToLatest(db: AnyDb): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results = [] } = await migrator.migrateToLatest();
  const failed = results.find((r) => r.status === 'Error');
  if (error !== undefined || failed) {
    const reason = error instanceof Error ? error.message : 'unknown error';
    throw new MigrationError(`migration ${failed?.migrationName ?? ''} failed: ${reason}`);
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
