import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { DatabaseSchema } from './schema.js';

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
  /** The connection that writes. */
  db: Kysely<DatabaseSchema>;
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

export function openStore(location: StoreLocation, options: SqliteOptions): Store {
  mkdirSync(dirname(location.path), { recursive: true });
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: openSqlite(location.path, options, false) }) });
  return {
    location,
    db,
    openReader: () => new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: openSqlite(location.path, options, true) }) }),
    close: () => db.destroy(),
  };
}
