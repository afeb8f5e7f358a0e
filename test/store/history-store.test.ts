import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { StoreConfigError, type StoreLocation, openStore, parseDatabaseUrl, redactDatabaseUrl } from '../../src/store/dialect.js';
import { createHistoryStore } from '../../src/store/history-store.js';
import { apiInstant } from '../../src/store/record.js';
import { migrateToLatest } from '../../src/store/migrations.js';
import { type TestPostgres, startPostgres } from '../helpers/postgres.js';
import { testRecord } from '../helpers/records.js';
import { tempDir } from '../helpers/temp-dir.js';

const record = testRecord;

async function openAt(location: StoreLocation) {
  const store = await openStore(location, { synchronous: 'FULL' });
  await migrateToLatest(store.db);
  return createHistoryStore(store);
}

const MIGRATIONS = ['2026-11-26-001-create-predictions', '2026-11-27-001-record-uid-and-sensor-stats', '2026-11-27-002-api-keys', '2026-11-27-003-history-filter-indexes'];

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('parseDatabaseUrl', () => {
  it('takes sqlite:PATH, relative or absolute', () => {
    assert.deepEqual(parseDatabaseUrl('sqlite:/var/lib/lw/p.db'), { dialect: 'sqlite', path: '/var/lib/lw/p.db' });
    assert.deepEqual(parseDatabaseUrl('sqlite:///var/lib/lw/p.db'), { dialect: 'sqlite', path: '/var/lib/lw/p.db' });
    assert.deepEqual(parseDatabaseUrl('sqlite:data/p.db'), { dialect: 'sqlite', path: join(process.cwd(), 'data/p.db') });
  });
  it('takes postgres:// and postgresql:// URLs', () => {
    assert.deepEqual(parseDatabaseUrl('postgres://u:p@db:5432/lw'), { dialect: 'postgres', url: 'postgres://u:p@db:5432/lw' });
    assert.deepEqual(parseDatabaseUrl('postgresql://u@db/lw?sslmode=require'), { dialect: 'postgres', url: 'postgresql://u@db/lw?sslmode=require' });
  });
  it('refuses in-memory, unknown schemes and host-less URLs with a clear line', () => {
    assert.throws(() => parseDatabaseUrl('sqlite::memory:'), StoreConfigError);
    assert.throws(() => parseDatabaseUrl('sqlite:'), StoreConfigError);
    assert.throws(() => parseDatabaseUrl('mysql://x'), /must start with sqlite: or postgres:\/\//);
    assert.throws(() => parseDatabaseUrl('postgres:///lw'), /names no host/);
  });
  it('never logs a password', () => {
    assert.equal(redactDatabaseUrl('postgres://lw:s3cr%40t@db:5432/lw'), 'postgres://lw:***@db:5432/lw');
    assert.equal(redactDatabaseUrl('postgres://lw@db/lw'), 'postgres://lw@db/lw');
  });
});

describe('SQLite specifics', () => {
  it('creates the file and its directory, in WAL mode', async (t) => {
    const path = join(tempDir(t), 'nested', 'dir', 'p.db');
    const history = await openAt({ dialect: 'sqlite', path });
    await history.record(record(1));
    await history.close();
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
    raw.close();
  });

  it('upgrades a database of the first schema: uids and sensor totals for the records it holds', async (t) => {
    const path = join(tempDir(t), 'p.db');
    const store = await openStore({ dialect: 'sqlite', path }, { synchronous: 'FULL' });
    const { Migrator } = await import('kysely');
    const provider = { getMigrations: async () => ({ [MIGRATIONS[0]!]: (await import('../../src/store/migrations.js')).MIGRATIONS[MIGRATIONS[0]!]! }) };
    await new Migrator({ db: store.db, provider }).migrateToLatest();
    for (let i = 0; i < 6; i++) {
      const { uid: _uid, ...old } = { ...record(i), uid: '' };
      await store.db.insertInto('predictions').values(old).execute();
    }
    assert.deepEqual(await migrateToLatest(store.db), MIGRATIONS.slice(1));
    const history = createHistoryStore(store);
    t.after(() => history.close());
    const rows = await collect(history.stream({}));
    assert.equal(new Set(rows.map((r) => r.uid)).size, 6);
    const sensors = await history.sensors();
    assert.deepEqual(sensors.map((s) => [s.sensor_id, s.count]), [['s0', 2], ['s1', 2], ['s2', 2]]);
  });
});

interface Dialect {
  name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  location(t: Parameters<typeof tempDir>[0]): Promise<StoreLocation>;
}

let pgServer: TestPostgres | undefined;
const dialects: Dialect[] = [
  {
    name: 'SQLite',
    setup: async () => {},
    teardown: async () => {},
    location: async (t) => ({ dialect: 'sqlite', path: join(tempDir(t), 'p.db') }),
  },
  {
    name: 'PostgreSQL',
    setup: async () => { pgServer = await startPostgres(); },
    teardown: async () => { await pgServer?.close(); },
    location: async () => ({ dialect: 'postgres', url: await pgServer!.createDatabase() }),
  },
];

for (const dialect of dialects) {
  describe(`history store on ${dialect.name}`, () => {
    before(() => dialect.setup());
    after(() => dialect.teardown());
    const open = async (t: Parameters<typeof tempDir>[0]) => {
      const history = await openAt(await dialect.location(t));
      t.after(() => history.close());
      return history;
    };

    it('applies versioned migrations once, and records which ran', async (t) => {
      const store = await openStore(await dialect.location(t), { synchronous: 'FULL' });
      t.after(() => store.close());
      assert.deepEqual(await migrateToLatest(store.db), MIGRATIONS);
      assert.deepEqual(await migrateToLatest(store.db), []);
      const names = await store.db.selectFrom('kysely_migration' as never).select('name' as never).orderBy('name' as never).execute();
      assert.deepEqual(names.map((r) => (r as { name: string }).name), MIGRATIONS);
    });

    it('keeps every committed record across a close and reopen, with all its fields', async (t) => {
      const location = await dialect.location(t);
      const history = await openAt(location);
      const written = [];
      for (let i = 0; i < 20; i++) written.push(await history.record(record(i)));
      await history.close();
      const reopened = await openAt(location);
      t.after(() => reopened.close());
      assert.deepEqual(await collect(reopened.stream({})), written);
      assert.deepEqual(written.map((r) => r.id), Array.from({ length: 20 }, (_, i) => i + 1));
      assert.deepEqual(written[3], { ...record(3), timestamp: apiInstant(record(3).timestamp), id: 4, uid: written[3]!.uid });
      assert.match(written[3].uid, /^[0-9a-f-]{36}$/);
      assert.equal(new Set(written.map((r) => r.uid)).size, 20);
    });

    it('streams with filters that combine, in either order', async (t) => {
      const history = await open(t);
      for (let i = 0; i < 30; i++) await history.record(record(i));
      const ids = async (q: Parameters<typeof history.stream>[0]) => (await collect(history.stream(q))).map((r) => r.id);
      assert.deepEqual(await ids({ sensorIds: ['s1'] }), [2, 5, 8, 11, 14, 17, 20, 23, 26, 29]);
      assert.deepEqual(await ids({ sensorIds: ['s1', 's2'], limit: 4 }), [2, 3, 5, 6]);
      assert.deepEqual(await ids({ sensorIds: ['s1'], prediction: 'Leak' }), [2, 8, 14, 20, 26]);
      assert.deepEqual(await ids({ severity: 'high', limit: 3 }), [2, 4, 6]);
      assert.deepEqual(await ids({ severity: 'high', limit: 3, order: 'desc' }), [30, 28, 26]);
      assert.deepEqual(await ids({ sensorIds: ['s1'], order: 'desc', after: 20, through: 11 }), [17, 14, 11]);
      assert.deepEqual(await ids({ sensorIds: ['nobody'] }), []);
      const t10 = record(10).timestamp;
      const t12 = record(12).timestamp;
      assert.deepEqual(await ids({ since: t10, until: t12 }), [11, 12, 13]);
      assert.equal(await history.count(), 30);
    });

    it('finds where a page ends and whether more follow', async (t) => {
      const history = await open(t);
      for (let i = 0; i < 10; i++) await history.record(record(i));
      assert.deepEqual(await history.pageEnd({}, 4), { lastId: 4, more: true });
      assert.deepEqual(await history.pageEnd({ after: 4 }, 4), { lastId: 8, more: true });
      assert.deepEqual(await history.pageEnd({ after: 8 }, 4), { lastId: 10, more: false });
      assert.deepEqual(await history.pageEnd({}, 10), { lastId: 10, more: false });
      assert.deepEqual(await history.pageEnd({ order: 'desc', sensorIds: ['s0'] }, 2), { lastId: 7, more: true });
      assert.equal(await history.pageEnd({ sensorIds: ['nobody'] }, 5), null);
    });

    it('commits the writes of one turn of the event loop as one transaction: all or none', async (t) => {
      const history = await open(t);
      const written = await Promise.all(Array.from({ length: 8 }, (_, i) => history.record(record(i))));
      assert.deepEqual(written.map((r) => r.id), [1, 2, 3, 4, 5, 6, 7, 8]);
      // One broken row in a group (NOT NULL violated) fails the whole group, and nothing of it is kept.
      const group = [record(20), { ...record(21), sensor_id: null as unknown as string }, record(22)].map((r) => history.record(r));
      const settled = await Promise.allSettled(group);
      assert.deepEqual(settled.map((s) => s.status), ['rejected', 'rejected', 'rejected']);
      assert.equal(await history.count(), 8);
      assert.deepEqual((await history.sensors()).map((s) => s.count), [3, 3, 2], 'the totals roll back with the records');
      assert.ok((await history.record(record(23))).id > 8);
    });

    it('keeps writing while a long read is streaming', async (t) => {
      const history = await open(t);
      for (let i = 0; i < 50; i++) await history.record(record(i));
      const seen: number[] = [];
      for await (const r of history.stream({})) {
        seen.push(r.id);
        if (seen.length === 10) {
          // A write in the middle of the read must neither fail nor wait for the read to end.
          await history.record(record(99));
        }
      }
      assert.deepEqual(seen.slice(0, 50), Array.from({ length: 50 }, (_, i) => i + 1));
      assert.equal(await history.count(), 51);
    });

    it('releases the read connection when a reader stops early', async (t) => {
      const history = await open(t);
      for (let i = 0; i < 5; i++) await history.record(record(i));
      for (let n = 0; n < 50; n++) {
        for await (const _ of history.stream({})) break;
      }
      assert.equal(await history.count(), 5);
    });

    it('keeps per-sensor totals and the latest prediction with every insert', async (t) => {
      const history = await open(t);
      const written = [];
      for (let i = 0; i < 12; i++) written.push(await history.record(record(i)));
      const sensors = await history.sensors();
      assert.deepEqual(sensors.map((s) => s.sensor_id), ['s0', 's1', 's2']);
      const s1 = sensors[1]!;
      // s1 holds records 1, 4, 7, 10: odd ones are Leak/high.
      assert.equal(s1.count, 4);
      assert.deepEqual(s1.by_prediction, { Leak: 2, Normal: 2 });
      assert.deepEqual(s1.by_severity, { high: 2, none: 2 });
      assert.equal(s1.first_seen, apiInstant(record(1).timestamp));
      assert.equal(s1.last_seen, apiInstant(record(10).timestamp));
      assert.deepEqual(s1.last, written[10]);
    });

    it('imports exported records once: a second import adds nothing', async (t) => {
      const source = await open(t);
      for (let i = 0; i < 7; i++) await source.record(record(i));
      const exported = await collect(source.stream({}));
      const target = await open(t);
      await target.record(record(100));
      const asImport = exported.map(({ id: _id, ...r }) => r);
      assert.equal(await target.importRecords(asImport), 7);
      assert.equal(await target.importRecords(asImport), 0);
      assert.equal(await target.importRecords([...asImport, asImport[0]!]), 0);
      const rows = await collect(target.stream({}));
      assert.equal(rows.length, 8);
      assert.deepEqual(rows.slice(1).map(({ id: _id, ...r }) => r), asImport);
      assert.equal((await target.sensors()).reduce((n, s) => n + s.count, 0), 8);
      // Two imports of the same records at once: each record lands once, and is counted once.
      const other = await open(t);
      const added = await Promise.all([other.importRecords(asImport), other.importRecords(asImport)]);
      assert.equal(added[0] + added[1], 7);
      assert.equal(await other.count(), 7);
      assert.equal((await other.sensors()).reduce((n, s) => n + s.count, 0), 7);
    });

    it('purges records older than a cutoff in batches, oldest first', async (t) => {
      const history = await open(t);
      for (let i = 0; i < 10; i++) await history.record(record(i));
      const cutoff = record(6).timestamp;
      assert.equal(await history.purgeBefore(cutoff, 4), 4);
      assert.equal(await history.purgeBefore(cutoff, 4), 2);
      assert.equal(await history.purgeBefore(cutoff, 4), 0);
      assert.deepEqual((await collect(history.stream({}))).map((r) => r.id), [7, 8, 9, 10]);
    });
  });
}

describe('the SQLite connection, which keeps its prepared statements', () => {
  it('runs a query again after streaming it, and after 100 others', async (t) => {
    const store = await openStore({ dialect: 'sqlite', path: join(tempDir(t), 'p.db') }, { synchronous: 'FULL' });
    t.after(() => store.close());
    await migrateToLatest(store.db);
    const history = createHistoryStore(store);
    for (let i = 0; i < 5; i++) await history.record(record(i));
    const query = store.db.selectFrom('predictions').select('id').orderBy('id');
    const seen: number[] = [];
    // A stream that stops early leaves its statement mid-iteration: the next run must start afresh.
    for await (const row of query.stream()) {
      seen.push(row.id);
      if (seen.length === 2) break;
    }
    assert.deepEqual(seen, [1, 2]);
    assert.deepEqual((await query.execute()).map((r) => r.id), [1, 2, 3, 4, 5]);
    // More distinct queries than the cache keeps, then the first again.
    for (let limit = 1; limit <= 100; limit++) assert.equal((await query.limit(limit).execute()).length, Math.min(limit, 5));
    assert.deepEqual((await query.execute()).map((r) => r.id), [1, 2, 3, 4, 5]);
  });
});
