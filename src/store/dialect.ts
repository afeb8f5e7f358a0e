import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import Cursor from 'pg-cursor';
import type { DatabaseSchema } from './schema.js';
import { type BatchWriter, type WriteQuery, startSqliteWriter } from './sqlite-writer.js';

/** The only module that knows which database engine is in use. */
export type StoreLocation = { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string };

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
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new StoreConfigError('DATABASE_URL is not a valid postgres:// URL (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE)');
    }
    if (parsed.hostname === '' && !parsed.searchParams.has('host')) {
      throw new StoreConfigError('DATABASE_URL=postgres://… names no host (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE)');
    }
    return { dialect: 'postgres', url };
  }
  throw new StoreConfigError(`DATABASE_URL must start with sqlite: or postgres:// (got ${JSON.stringify(url.split(':')[0] ?? '')}:…)`);
}

/** A URL safe to log: the password (in the authority or the query string) replaced by ***. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    if (u.searchParams.has('password')) u.searchParams.set('password', '***');
    return u.toString().replace('%2A%2A%2A', '***');
  } catch {
    return url.replace(/^(postgres(?:ql)?:\/\/[^/@]*?:).*@/, '$1***@');
  }
}

export interface StoreOptions {
  /** SQLite only: FULL syncs every commit; NORMAL may lose the last commits on power loss. */
  synchronous: 'FULL' | 'NORMAL';
  /** PostgreSQL only: most connections this process opens. */
  poolSize?: number;
  /** PostgreSQL only: how long start-up waits for an unreachable server before giving up. */
  startupWaitMs?: number;
  /** Called with errors the store recovers from by itself (a dropped idle connection). */
  onBackgroundError?: (err: Error) => void;
}

/** A connection for one long streamed read; close it when the read ends. */
export interface Reader {
  db: Kysely<DatabaseSchema>;
  /** Runs a compiled query from a database cursor, yielding its rows `batch` at a time. */
  rows(query: CompiledQuery, batch: number): AsyncIterable<unknown[]>;
  close(): Promise<void>;
}

export interface Store {
  location: StoreLocation;
  /** The main connection (pool): migrations, small reads, and the query builder for writes. */
  db: Kysely<DatabaseSchema>;
  /** Runs compiled writes in one transaction; resolves once it is durable. SQLite runs it off the event loop. */
  writeBatch(queries: WriteQuery[]): Promise<unknown[][]>;
  /** A connection for a long streamed read that must not hold up writes. */
  openReader(): Reader;
  close(): Promise<void>;
}

function openSqlite(path: string, options: StoreOptions, readonly: boolean): Database.Database {
  const db = new Database(path, { readonly, fileMustExist: readonly });
  db.pragma('busy_timeout = 5000');
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous}`);
  }
  return db;
}

/** Most statements a connection keeps prepared. */
const STATEMENT_CACHE = 64;

/**
 * The connection as Kysely sees it, keeping the statements it prepares: Kysely prepares every query
 * anew, and the ones a request runs (is any API key set? the key's row) are the same each time.
 * The least recently used goes when the cache is full; one still being iterated is never handed out twice.
 */
function reusingStatements(db: Database.Database): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => db.close(),
    prepare(sql) {
      const kept = cache.get(sql);
      cache.delete(sql);
      const stmt = kept && !kept.busy ? kept : db.prepare(sql);
      cache.set(sql, stmt);
      if (cache.size > STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
      return stmt;
    },
  };
}

async function openSqliteStore(location: { dialect: 'sqlite'; path: string }, options: StoreOptions): Promise<Store> {
  mkdirSync(dirname(location.path), { recursive: true });
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: reusingStatements(openSqlite(location.path, options, false)) }) });
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
    openReader() {
      const database = openSqlite(location.path, options, true);
      const reader = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database }) });
      return {
        db: reader,
        async *rows(query, batch) {
          // better-sqlite3 steps the statement synchronously: a batch at a time, then the event loop gets a turn.
          const it = database.prepare(query.sql).iterate(...query.parameters);
          try {
            for (;;) {
              const rows: unknown[] = [];
              for (let r = it.next(); !r.done; r = it.next()) {
                rows.push(r.value);
                if (rows.length >= batch) break;
              }
              if (rows.length === 0) return;
              yield rows;
              await new Promise<void>((resolve) => setImmediate(resolve));
            }
          } finally {
            it.return?.();
          }
        },
        close: () => reader.destroy(),
      };
    },
    async close() {
      await writer.close();
      await db.destroy();
    },
  };
}

/** bigint (ids, counts) and numeric as JS numbers: they stay far below 2^53. */
function numericTypes(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, Number);
  types.setTypeParser(pg.types.builtins.NUMERIC, Number);
  return types;
}

/** Connection settings: fail fast when the server is away, never hang a request on it. */
export const POSTGRES_TIMEOUTS = {
  /** Waiting for a connection (new or from the pool). */
  connectMs: 3_000,
  /** One statement, enforced by the server (a cursor fetch counts as one, not the whole stream). */
  statementMs: 30_000,
};

/**
 * Every history write takes this transaction-level advisory lock first, so ids are allocated and
 * committed in the same order across instances: a reader paging by id never sees id n+1 committed
 * while n is still in flight (which would skip n), and sensor totals are never locked in two orders.
 */
const WRITE_LOCK = 0x4c57_6869; // "LWhi"

function postgresPool(url: string, max: number, onError: ((err: Error) => void) | undefined): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: POSTGRES_TIMEOUTS.connectMs,
    idleTimeoutMillis: 30_000,
    // No client-side query_timeout: pg-cursor never clears it, so it would cut long streams short.
    statement_timeout: POSTGRES_TIMEOUTS.statementMs,
    application_name: 'leakwatch',
    types: numericTypes(),
  });
  // A dropped connection emits 'error' on the pool (idle) or on the client (checked out); unhandled,
  // either would crash the process. The query under way fails, and the pool reconnects on demand.
  pool.on('error', (err) => onError?.(err));
  pool.on('connect', (client) => client.on('error', (err) => onError?.(err)));
  return pool;
}

async function openPostgresStore(location: { dialect: 'postgres'; url: string }, options: StoreOptions): Promise<Store> {
  const poolSize = options.poolSize ?? 10;
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool: postgresPool(location.url, poolSize, options.onBackgroundError) }) });
  // Long streamed reads get a pool of their own, so slow downloads never starve writes and probes.
  let readerPool: pg.Pool | undefined;
  const readPool = () => (readerPool ??= postgresPool(location.url, Math.max(1, Math.ceil(poolSize / 2)), options.onBackgroundError));
  // At start-up the server may still be starting too (a pod and its database): retry for a while.
  const deadline = Date.now() + (options.startupWaitMs ?? 30_000);
  for (let delay = 250; ; delay = Math.min(delay * 2, 4_000)) {
    try {
      await db.executeQuery(CompiledQuery.raw('select 1'));
      break;
    } catch (err) {
      if (Date.now() + delay > deadline) {
        await db.destroy();
        throw new StoreConfigError(`cannot reach PostgreSQL at ${redactDatabaseUrl(location.url)}: ${(err as Error).message}`);
      }
      options.onBackgroundError?.(err as Error);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  return {
    location,
    db,
    async writeBatch(queries) {
      if (queries.length === 0) {
        await db.executeQuery(CompiledQuery.raw('select 1'));
        return [];
      }
      // COMMIT returns once the WAL is flushed (synchronous_commit on, PostgreSQL's default).
      return db.transaction().execute(async (trx) => {
        const out: unknown[][] = [];
        await trx.executeQuery(CompiledQuery.raw('select pg_advisory_xact_lock($1)', [WRITE_LOCK]));
        for (const q of queries) out.push((await trx.executeQuery(CompiledQuery.raw(q.sql, [...q.parameters]))).rows);
        return out;
      });
    },
    openReader: () => ({
      db,
      async *rows(query, batch) {
        const client = await readPool().connect();
        const cursor = client.query(new Cursor(query.sql, [...query.parameters]));
        try {
          for (let rows = await cursor.read(batch); rows.length > 0; rows = await cursor.read(batch)) yield rows;
        } finally {
          await cursor.close().catch(() => {});
          client.release();
        }
      },
      close: () => Promise.resolve(),
    }),
    async close() {
      await readerPool?.end();
      await db.destroy();
    },
  };
}

export async function openStore(location: StoreLocation, options: StoreOptions): Promise<Store> {
  return location.dialect === 'sqlite' ? openSqliteStore(location, options) : openPostgresStore(location, options);
}
