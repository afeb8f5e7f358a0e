import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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

/** The CLI's one line on stderr (npm's own warnings aside). */
function stderrLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('npm warn'));
}

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
    // A device would be read for ever, a FIFO nobody writes to never opens: both refused at once.
    const fifo = join(dir, 'feed.ndjson');
    execFileSync('mkfifo', [fifo]);
    for (const special of ['/dev/zero', fifo]) {
      const res = await runCli(['history', 'import', special, '--database-url', target], {}, { timeoutMs: 30_000 });
      assert.equal(res.signal, null, `${special}: killed after 30 s`);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /cannot read .* \(not a regular file\)/);
    }
  });

  it('export names the option in one line when a filter is bad', async (t) => {
    const sqlite = `sqlite:${join(tempDir(t), 'p.db')}`;
    await withHistory(sqlite, async (h) => { await h.record(record(1)); });
    const cases: [string[], RegExp][] = [
      [['--since', 'yesterday'], /^leakwatch: invalid --since: "yesterday" is not an ISO 8601 date or date-time, e\.g\. 2026-11-26T08:00:00Z$/],
      [['--until', '2026-13-01'], /^leakwatch: invalid --until: "2026-13-01" is not an ISO 8601/],
      [['--since', '2026-02-01', '--until', '2026-01-01'], /^leakwatch: invalid --since: it is later than until$/],
    ];
    for (const [args, expected] of cases) {
      const res = await runCli(['history', 'export', ...args, '--database-url', sqlite]);
      assert.equal(res.code, 1, args.join(' '));
      assert.deepEqual(stderrLines(res.stderr).length, 1, res.stderr);
      assert.match(stderrLines(res.stderr)[0]!, expected);
      assert.equal(res.stdout, '');
    }
  });

  it('export refuses a bad --limit in one line, without a stack trace', async (t) => {
    const sqlite = `sqlite:${join(tempDir(t), 'p.db')}`;
    await withHistory(sqlite, async (h) => { await h.record(record(1)); });
    for (const limit of ['-1', 'abc', '0', '1.5', '99999999999999999999']) {
      const res = await runCli(['history', 'export', '--limit', limit, '--database-url', sqlite]);
      assert.equal(res.code, 1, limit);
      assert.deepEqual(stderrLines(res.stderr), [`leakwatch: invalid --limit: ${JSON.stringify(limit)} is not a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`], limit);
    }
    const ok = await runCli(['history', 'export', '--limit', '1', '--database-url', sqlite]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trimEnd().split('\n').length, 1);
  });

  it('export refuses a SQLite database that does not exist, and creates nothing', async (t) => {
    const dir = tempDir(t);
    const db = join(dir, 'typo', 'x.db');
    const out = join(dir, 'h.ndjson');
    const res = await runCli(['history', 'export', '--out', out, '--database-url', `sqlite:${db}`]);
    assert.equal(res.code, 1);
    assert.deepEqual(stderrLines(res.stderr), [`leakwatch: no SQLite database at ${db}`]);
    assert.equal(existsSync(join(dir, 'typo')), false, 'no directory');
    assert.equal(existsSync(out), false, 'no output file');
    // Import still creates its target.
    const file = join(dir, 'one.ndjson');
    writeFileSync(file, `${JSON.stringify({ ...record(1), id: 1, uid: 'u-1' })}\n`);
    const imported = await runCli(['history', 'import', file, '--database-url', `sqlite:${db}`]);
    assert.equal(imported.code, 0, imported.stderr);
    const exported = await runCli(['history', 'export', '--database-url', `sqlite:${db}`]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal((JSON.parse(exported.stdout) as PredictionRecord).uid, 'u-1');
  });

  it('import refuses numbers the service could never have recorded', async (t) => {
    const dir = tempDir(t);
    const target = `sqlite:${join(dir, 't.db')}`;
    const good = { ...record(1), id: 1, uid: 'u-1' };
    const cases: [Record<string, unknown>, string][] = [
      [{ image_width: -5 }, '/image_width must be >= 1'],
      [{ image_height: 0 }, '/image_height must be >= 1'],
      [{ image_width: 2.5 }, '/image_width must be integer'],
      [{ image_height: 3e9 }, '/image_height must be <= 2147483647'],
      [{ confidence: 1.5 }, '/confidence must be <= 1'],
      [{ p_leak: -0.1 }, '/p_leak must be >= 0'],
      [{ leak_threshold: 2 }, '/leak_threshold must be <= 1'],
      [{ severity_low_threshold: -1 }, '/severity_low_threshold must be >= 0'],
      [{ severity_high_threshold: 1.01 }, '/severity_high_threshold must be <= 1'],
    ];
    for (const [over, problem] of cases) {
      const file = join(dir, 'bad.ndjson');
      writeFileSync(file, `${JSON.stringify({ ...good, ...over })}\n`);
      const res = await runCli(['history', 'import', file, '--database-url', target]);
      assert.equal(res.code, 1, problem);
      assert.ok(res.stderr.includes(`line 1: not a prediction record (${problem})`), res.stderr);
    }
    // The same through CSV, whose cells are numbers only after parsing.
    const csv = join(dir, 'bad.csv');
    const exported = join(dir, 'good.csv');
    const source = `sqlite:${join(dir, 's.db')}`;
    await withHistory(source, async (h) => { await h.record(record(1)); });
    assert.equal((await runCli(['history', 'export', '--format', 'csv', '--out', exported, '--database-url', source])).code, 0);
    const [header, row] = readFileSync(exported, 'utf8').split('\r\n') as [string, string];
    const widthAt = header.split(',').indexOf('image_width');
    writeFileSync(csv, `${header}\r\n${row.split(',').map((cell, i) => (i === widthAt ? '-5' : cell)).join(',')}\r\n`);
    const res = await runCli(['history', 'import', csv, '--database-url', target]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /line 2: not a prediction record \(\/image_width must be >= 1\)/);
    assert.deepEqual(await all(target), [], 'nothing was added');
  });

  it('import ignores a UTF-8 byte order mark at the start of an NDJSON file', async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'bom.ndjson');
    const lines = [1, 2].map((i) => JSON.stringify({ ...record(i), id: i, uid: `u-${i}` }));
    writeFileSync(file, `\uFEFF${lines.join('\n')}\n`);
    const target = `sqlite:${join(dir, 't.db')}`;
    const res = await runCli(['history', 'import', file, '--database-url', target]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /2 added, 0 already present/);
    assert.deepEqual((await all(target)).map((r) => r.uid), ['u-1', 'u-2']);
  });
});
