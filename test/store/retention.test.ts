import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { openHistory } from '../../src/server.js';
import type { NewPrediction } from '../../src/store/record.js';
import { startRetention } from '../../src/store/retention.js';
import { testRecord } from '../helpers/records.js';
import { tempDir } from '../helpers/temp-dir.js';

const DAY = 86_400_000;

const record = (ageDays: number, i: number): NewPrediction =>
  testRecord(i, { timestamp: new Date(Date.now() - ageDays * DAY + i).toISOString(), sensor_id: `s${i % 4}` });

it('purges records older than HISTORY_RETENTION_DAYS in small batches while predictions keep committing', async (t) => {
  const history = await openHistory(loadConfig({}, { DATABASE_URL: `sqlite:${join(tempDir(t), 'p.db')}` }));
  t.after(() => history.close());
  const old = Array.from({ length: 2500 }, (_, i) => ({ ...record(40, i), uid: `old-${i}` }));
  await history.importRecords(old);
  for (let i = 0; i < 10; i++) await history.record(record(5, i));
  const warnings: unknown[] = [];
  const log = { info: () => {}, warn: (o: object) => warnings.push(o) };
  // A long pause between batches: the purge of 2,500 records takes 25 batches.
  const retention = startRetention(history, { days: 30, batch: 100, pauseMs: 5, everyMs: 3_600_000, log });
  // While it purges, new predictions commit (each batch is its own short transaction).
  const fresh = await Promise.all(Array.from({ length: 20 }, (_, i) => history.record(record(0, i))));
  assert.equal(fresh.length, 20);
  await retention.purgeNow();
  await retention.stop();
  assert.equal(await history.count(), 30);
  const left = [];
  for await (const r of history.stream({})) left.push(r);
  assert.ok(left.every((r) => Date.parse(r.timestamp) > Date.now() - 30 * DAY));
  assert.deepEqual(warnings, []);
  // Totals per sensor still count what was purged: they are lifetime counts.
  assert.equal((await history.sensors()).reduce((n, s) => n + s.count, 0), 2530);
});
