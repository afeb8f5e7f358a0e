import type { Config } from '../config.js';
import { migrateDatabase } from '../server.js';
import { redactDatabaseUrl } from '../store/dialect.js';
import { fail } from './options.js';
import { oneLine } from './one-line.js';

/** `leakwatch db migrate`: applies pending migrations and says which, then exits. */
export async function runMigrate(config: Config): Promise<void> {
  let applied: string[];
  try {
    applied = await migrateDatabase(config);
  } catch (err) {
    fail(oneLine(err, config));
  }
  const where = redactDatabaseUrl(config.databaseUrl);
  process.stdout.write(applied.length === 0 ? `${where}: up to date\n` : applied.map((name) => `${where}: applied ${name}\n`).join(''));
}
