import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { StoreConfigError, openStore, parseDatabaseUrl } from '../../src/store/dialect.js';
import { createHistoryStore } from '../../src/store/history-store.js';
import { migrateToLatest } from '../../src/store/migrations.js';
import type { NewPrediction } from '../../src/store/record.js';
import { tempDir } from '../helpers/temp-dir.js';

const record = (i: number, over: Partial<NewPrediction> = {}): NewPrediction => ({
  prediction: i % 2 ? 'Leak' : 'Normal',
  confidence: 0.5 + i / 1000,
  timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  sensor_id: `s${i % 3}`,
  severity: i % 2 ? 'high' : 'none',
  p_leak: i % 2 ? 0.5 + i / 1000 : 0.5 - i / 1000,
  leak_threshold: 0.5,
  severity_low_threshold: 0.5,
  severity_high_threshold: 0.9,
  image_sha256: 'a'.repeat(64),
  image_width: 224,
  image_height: 224,
  model_sha256: 'b'.repeat(64),
  ...over,
});

async function open(path: string, synchronous: 'FULL' | 'NORMAL' = 'FULL') {
  const store = await openStore({ dialect: 'sqlite', path }, { synchronous });
  await migrateToLatest(store.db);
  return createHistoryStore(store);
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('parseDatabaseUrl', () => {
  it('takes sqlite:PATH, relative or absolute', () => {
    assert.deepEqual(parseDatabaseUrl('sqlite:/var/lib/lw/p.db'), { dialect: 'sqlite', path: '/var/lib/lw/p.db' });
    assert.deepEqual(parseDatabaseUrl('sqlite:///var/lib/lw/p.db'), { dialect: 'sqlite', path: '/var/lib/lw/p.db' });
    assert.equal(parseDatabaseUrl('sqlite:data/p.db').path, join(process.cwd(), 'data/p.db'));
  });
  it('refuses in-memory, unknown schemes and (for now) PostgreSQL with a clear line', () => {
    assert.throws(() => parseDatabaseUrl('sqlite::memory:'), StoreConfigError);
    assert.throws(() => parseDatabaseUrl('sqlite:'), StoreConfigError);
    assert.throws(() => parseDatabaseUrl('mysql://x'), /must start with sqlite:/);
    assert.throws(() => parseDatabaseUrl('postgres://u@h/db'), /not supported by this version yet/);
  });
});

describe('SQLite history store', () => {
  it('creates the file and its directory, in WAL mode with the chosen synchronous setting', async (t) => {
    const path = join(tempDir(t), 'nested', 'dir', 'p.db');
    const history = await open(path);
    await history.record(record(1));
    await history.close();
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
    raw.close();
  });

  it('applies versioned migrations once, and records which ran', async (t) => {
    const path = join(tempDir(t), 'p.db');
    const store = await openStore({ dialect: 'sqlite', path }, { synchronous: 'FULL' });
    assert.deepEqual(await migrateToLatest(store.db), ['2026-11-26-001-create-predictions']);
    assert.deepEqual(await migrateToLatest(store.db), []);
    await store.close();
    const raw = new Database(path, { readonly: true });
    const names = raw.prepare('select name from kysely_migration').pluck().all();
    assert.deepEqual(names, ['2026-11-26-001-create-predictions']);
    raw.close();
  });

  it('keeps every committed record across a close and reopen, with all its fields', async (t) => {
    const path = join(tempDir(t), 'p.db');
    const history = await open(path);
    const written = [];
    for (let i = 0; i < 20; i++) written.push(await history.record(record(i)));
    await history.close();
    const reopened = await open(path);
    t.after(() => reopened.close());
    assert.deepEqual(await collect(reopened.stream({})), written);
    assert.deepEqual(written.map((r) => r.id), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.deepEqual(written[3], { ...record(3), id: 4 });
  });

  it('streams with filters that combine, oldest first', async (t) => {
    const history = await open(join(tempDir(t), 'p.db'));
    t.after(() => history.close());
    for (let i = 0; i < 30; i++) await history.record(record(i));
    const ids = async (q: Parameters<typeof history.stream>[0]) => (await collect(history.stream(q))).map((r) => r.id);
    assert.deepEqual(await ids({ sensorId: 's1' }), [2, 5, 8, 11, 14, 17, 20, 23, 26, 29]);
    assert.deepEqual(await ids({ sensorId: 's1', prediction: 'Leak' }), [2, 8, 14, 20, 26]);
    assert.deepEqual(await ids({ severity: 'high', limit: 3 }), [2, 4, 6]);
    const t10 = record(10).timestamp;
    const t12 = record(12).timestamp;
    assert.deepEqual(await ids({ since: t10, until: t12 }), [11, 12, 13]);
    assert.equal(await history.count(), 30);
  });

  it('commits the writes of one turn of the event loop as one transaction: all or none', async (t) => {
    const history = await open(join(tempDir(t), 'p.db'));
    t.after(() => history.close());
    const written = await Promise.all(Array.from({ length: 8 }, (_, i) => history.record(record(i))));
    assert.deepEqual(written.map((r) => r.id), [1, 2, 3, 4, 5, 6, 7, 8]);
    // One broken row in a group (NOT NULL violated) fails the whole group, and nothing of it is kept.
    const group = [record(20), { ...record(21), sensor_id: null as unknown as string }, record(22)].map((r) => history.record(r));
    const settled = await Promise.allSettled(group);
    assert.deepEqual(settled.map((s) => s.status), ['rejected', 'rejected', 'rejected']);
    assert.equal(await history.count(), 8);
    assert.equal((await history.record(record(23))).id, 9);
  });

  it('keeps writing while a long read is streaming', async (t) => {
    const history = await open(join(tempDir(t), 'p.db'));
    t.after(() => history.close());
    for (let i = 0; i < 50; i++) await history.record(record(i));
    const seen: number[] = [];
    for await (const r of history.stream({})) {
      seen.push(r.id);
      if (seen.length === 10) {
        // A write in the middle of the read must neither fail nor wait for the read to end.
        await history.record(record(99));
      }
    }
    assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => i + 1), 'the read sees the snapshot it started with');
    assert.equal(await history.count(), 51);
  });

  it('releases the read connection when a reader stops early', async (t) => {
    const history = await open(join(tempDir(t), 'p.db'));
    t.after(() => history.close());
    for (let i = 0; i < 5; i++) await history.record(record(i));
    for (let n = 0; n < 50; n++) {
      for await (const _ of history.stream({})) break;
    }
    assert.equal(await history.count(), 5);
  });
});
