import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { openHistory } from '../../src/server.js';
import type { HistoryStore } from '../../src/store/history-store.js';
import type { NewPrediction, PredictionRecord } from '../../src/store/record.js';
import { runCli } from '../helpers/cli.js';
import { type TestPostgres, startPostgres } from '../helpers/postgres.js';
import { testRecord } from '../helpers/records.js';
import { tempDir } from '../helpers/temp-dir.js';

// Some sensor ids need CSV quoting.
const record = (i: number): NewPrediction => testRecord(i, i % 5 === 0 ? { sensor_id: 'valve "A", east' } : {});

async function withHistory<T>(databaseUrl: string, use: (h: HistoryStore) => Promise<T>): Promise<T> {
  const history = await openHistory(loadConfig({}, { DATABASE_URL: databaseUrl }));
  try {
    return await use(history);
  } finally {
    await history.close();
  }
}

async function all(databaseUrl: string): Promise<PredictionRecord[]> {
  return withHistory(databaseUrl, async (h) => {
    const out: PredictionRecord[] = [];
    for await (const r of h.stream({})) out.push(r);
    return out;
  });
}

const strip = ({ id: _id, ...r }: PredictionRecord) => r;

describe('leakwatch db and history commands', () => {
  let pg: TestPostgres;
  before(async () => { pg = await startPostgres(); });
  after(() => pg.close());

  it('db migrate applies the migrations once, on SQLite and PostgreSQL', async (t) => {
    for (const url of [`sqlite:${join(tempDir(t), 'p.db')}`, await pg.createDatabase()]) {
      const first = await runCli(['db', 'migrate', '--database-url', url]);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /applied 2026-11-26-001-create-predictions\n.*applied 2026-11-27-001-record-uid-and-sensor-stats\n.*applied 2026-11-27-002-api-keys\n.*applied 2026-11-27-003-history-filter-indexes\n$/);
      assert.doesNotMatch(first.stdout, /leakwatch-test/, 'the password is never printed');
      const again = await runCli(['db', 'migrate'], { DATABASE_URL: url });
      assert.match(again.stdout, /up to date/);
    }
  });

  it('db migrate fails in one line when PostgreSQL cannot be reached', async () => {
    const res = await runCli(['db', 'migrate', '--database-url', 'postgres://lw:secret@127.0.0.1:1/lw', '--database-startup-wait-s', '1']);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^leakwatch: cannot reach PostgreSQL at postgres:\/\/lw:\*\*\*@127\.0\.0\.1:1\/lw/m);
    assert.doesNotMatch(res.stderr, /secret/);
  });

  it('moves a SQLite history to PostgreSQL through CSV and NDJSON; importing twice adds nothing', async (t) => {
    const dir = tempDir(t);
    const sqlite = `sqlite:${join(dir, 'p.db')}`;
    await withHistory(sqlite, async (h) => {
      for (let i = 0; i < 25; i++) await h.record(record(i));
    });
    const source = await all(sqlite);
    for (const format of ['csv', 'ndjson'] as const) {
      const file = join(dir, `history.${format}`);
      const exported = await runCli(['history', 'export', '--format', format, '--out', file, '--database-url', sqlite]);
      assert.equal(exported.code, 0, exported.stderr);
      assert.match(exported.stderr, /exported 25 records/);
      const target = await pg.createDatabase();
      const first = await runCli(['history', 'import', file, '--database-url', target]);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /25 added, 0 already present/);
      const second = await runCli(['history', 'import', file], { DATABASE_URL: target });
      assert.match(second.stderr, /0 added, 25 already present/);
      assert.deepEqual((await all(target)).map(strip), source.map(strip), format);
    }
  });

  it('exports to stdout with filters, and refuses bad filters in one line', async (t) => {
    const sqlite = `sqlite:${join(tempDir(t), 'p.db')}`;
    await withHistory(sqlite, async (h) => {
      for (let i = 0; i < 12; i++) await h.record(record(i));
    });
    const res = await runCli(['history', 'export', '--sensor-id', 's1', '--sensor-id', 's2', '--prediction', 'Leak', '--order', 'desc', '--database-url', sqlite]);
    assert.equal(res.code, 0, res.stderr);
    const rows = res.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as PredictionRecord);
    const expected = (await all(sqlite)).filter((r) => ['s1', 's2'].includes(r.sensor_id) && r.prediction === 'Leak').reverse();
    assert.deepEqual(rows, expected);
    const bad = await runCli(['history', 'export', '--since', 'yesterday', '--database-url', sqlite]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /since/);
  });

  it('import stops at a bad line with its number, keeping what came before', async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'bad.ndjson');
    const good = { ...record(1), id: 1, uid: 'u-1' };
    writeFileSync(file, `${JSON.stringify(good)}\n{"prediction": "Leak"}\n`);
    const target = `sqlite:${join(dir, 't.db')}`;
    const res = await runCli(['history', 'import', file, '--database-url', target]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /line 2: not a prediction record/);
    assert.equal(readFileSync(file, 'utf8').split('\n').length, 3);
    const missing = await runCli(['history', 'import', join(dir, 'nope.csv'), '--database-url', target]);
    assert.match(missing.stderr, /cannot read .*nope\.csv \(ENOENT\)/);
  });
});
