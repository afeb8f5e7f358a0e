import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';

// Migrations must not depend on today's table types, which describe the latest schema.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Versioned migrations, in code so they ship inside the build. Names sort in the order they apply;
 * never edit one that has shipped: add a new one.
 */
const migrations: Record<string, Migration> = {
  '2026-11-26-001-create-predictions': {
    async up(db: AnyDb) {
      await db.schema
        .createTable('predictions')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
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
};

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations) };

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
