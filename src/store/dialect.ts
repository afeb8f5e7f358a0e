import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { DatabaseSchema } from './schema.js';
import { type BatchWriter, type WriteQuery, startSqliteWriter } from './sqlite-writer.js';

/** The only module that knows which database engine is in use. */
export type StoreLocation = { dialect: 'sqlite'; path: string };

export class StoreConfigError extends Error {
  override name = 'StoreConfigError';
}

export function parseDatabaseUrl(url: string): StoreLocation {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '' || path === ':memory:') {
      throw new StoreConfigError(`DATABASE_URL=${url}: give a file path, e.g. sqlite:data/predictions.db (an in-memory history would lose every prediction on restart)`);
    }
    return { dialect: 'sqlite', path: resolve(path) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    throw new StoreConfigError('DATABASE_URL=postgres://… is not supported by this version yet; use sqlite:PATH');
  }
  throw new StoreConfigError(`DATABASE_URL must start with sqlite: (got ${JSON.stringify(url.split(':')[0] ?? '')}:…)`);
}

export interface SqliteOptions {
  synchronous: 'FULL' | 'NORMAL';
}

export interface Store {
  location: StoreLocation;
  /** The main connection: migrations, small reads, and the query builder for writes. */
  db: Kysely<DatabaseSchema>;
  /** Runs compiled writes in one transaction, off the event loop; resolves once it is durable. */
  writeBatch(queries: WriteQuery[]): Promise<unknown[][]>;
  /** A separate read connection, for long streamed reads that must not hold up writes. Destroy it after use. */
  openReader(): Kysely<DatabaseSchema>;
  close(): Promise<void>;
}

function openSqlite(path: string, options: SqliteOptions, readonly: boolean): Database.Database {
  const db = new Database(path, { readonly, fileMustExist: readonly });
  db.pragma('busy_timeout = 5000');
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous}`);
  }
  return db;
}

export async function openStore(location: StoreLocation, options: SqliteOptions): Promise<Store> {
  mkdirSync(dirname(location.path), { recursive: true });
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: openSqlite(location.path, options, false) }) });
  let writer: BatchWriter;
  try {
    writer = await startSqliteWriter({ path: location.path, synchronous: options.synchronous });
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return {
    location,
    db,
    writeBatch: (queries) => writer.write(queries),
    openReader: () => new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: openSqlite(location.path, options, true) }) }),
    async close() {
      await writer.close();
      await db.destroy();
    },
  };
}
