import type { Config } from '../config.js';
import { openStore, parseDatabaseUrl, redactDatabaseUrl } from '../store/dialect.js';
import { migrateToLatest } from '../store/migrations.js';
import { fail } from './options.js';
import { oneLine } from './one-line.js';

/** `leakwatch db migrate`: applies pending migrations and says which, then exits. */
export async function runMigrate(config: Config): Promise<void> {
  let store;
  try {
    store = await openStore(parseDatabaseUrl(config.databaseUrl), { synchronous: config.sqliteSynchronous, poolSize: 1, startupWaitMs: config.databaseStartupWaitS * 1000 });
  } catch (err) {
    fail(oneLine(err, config));
  }
  try {
    const applied = await migrateToLatest(store.db);
    const where = redactDatabaseUrl(config.databaseUrl);
    process.stdout.write(applied.length === 0 ? `${where}: up to date\n` : applied.map((name) => `${where}: applied ${name}\n`).join(''));
  } catch (err) {
    await store.close();
    fail(oneLine(err, config));
  }
  await store.close();
}
