/**
 * SQLite on a full disk (issue 6, point 5): the history lives on a small tmpfs that a filler file
 * fills to the last byte while the server runs (a separate process, as deployed).
 *   - While full, POST /predict answers 503 store_unavailable (507 insufficient_storage would do
 *     too, once the catalogue has it), never 200 without the row: the history holds every
 *     acknowledged record and nothing else, and can still be read. /readyz answers 503.
 *   - Once the filler is deleted, the service resumes without a restart: /readyz answers 200 by
 *     itself, predictions get 200 and are in the history.
 *   - Full again with room left inside the WAL (checkpointed by another connection): commits
 *     succeed until they outgrow it, then are refused; each 200 is in the history.
 *   - The database passes `pragma integrity_check` afterwards and holds exactly what was acknowledged.
 * Needs root to mount the tmpfs (CI runs as root); skipped otherwise.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { PredictionRecord } from '../../src/store/record.js';
import { type ServerProcess, startServerProcess } from '../helpers/cli.js';
import { patternPng } from '../helpers/images.js';
import { predictForm } from '../helpers/multipart.js';
import { fixtureModel } from '../helpers/paths.js';

/** Room for the schema, a few records and the WAL; the filler takes whatever is left. */
const TMPFS_KIB = 2048;

interface Answer {
  status: number;
  body: unknown;
}

async function predict(url: string, seed: number, sensorId: string): Promise<Answer> {
  const { payload, headers } = predictForm(patternPng(40 + (seed % 24), 30 + (seed % 12), seed), sensorId);
  const res = await fetch(`${url}/predict`, { method: 'POST', body: payload, headers, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: kept as text for the assertion message.
  }
  return { status: res.status, body };
}

async function historyByUid(url: string): Promise<Map<string, PredictionRecord>> {
  const res = await fetch(`${url}/prediction_history`, { signal: AbortSignal.timeout(60_000) });
  assert.equal(res.status, 200, 'GET /prediction_history');
  const records = (await res.json()) as PredictionRecord[];
  const byUid = new Map(records.map((r) => [r.uid, r]));
  assert.equal(byUid.size, records.length, 'no uid appears twice in the history');
  return byUid;
}

/** Writes to `path` until the file system refuses a single byte more. Returns the bytes written. */
function fillUp(path: string): number {
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    for (const size of [256 * 1024, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x5a);
      for (;;) {
        try {
          written += writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

describe('SQLite history on a full disk', () => {
  let mnt: string | undefined;
  let mounted = false;
  let skipReason: string | undefined;
  let server: ServerProcess | undefined;

  before(() => {
    if (process.getuid?.() !== 0) {
      skipReason = 'needs root to mount a tmpfs';
      return;
    }
    mnt = mkdtempSync(join(tmpdir(), 'leakwatch-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_KIB}k`, 'tmpfs', mnt], { stdio: 'pipe' });
      mounted = true;
    } catch (err) {
      skipReason = `needs root to mount a tmpfs (${(err as Error).message.split('\n')[0] ?? ''})`;
    }
  });

  after(async () => {
    if (server) await server.stop('SIGKILL');
    if (mounted && mnt) execFileSync('umount', [mnt], { stdio: 'pipe' });
    if (mnt) rmdirSync(mnt);
  });

  it('refuses to acknowledge what it cannot store, and resumes once space is freed', { timeout: 300_000 }, async (t) => {
    if (skipReason !== undefined || !mnt) {
      t.skip(skipReason ?? 'needs root to mount a tmpfs');
      return;
    }
    const dbPath = join(mnt, 'p.db');
    const filler = join(mnt, 'filler');
    server = await startServerProcess({
      DATABASE_URL: `sqlite:${dbPath}`,
      MODEL_PATH: fixtureModel('tiny-logits2.onnx'),
      INFERENCE_THREADS: '1',
      RATE_LIMIT_PER_IP: '0',
    });
    const { url } = server;
    const running = server;
    let passed = false;
    t.after(() => {
      // On a failure, the server's own account of it.
      if (!passed) t.diagnostic(`server log (last lines):\n${running.output().split('\n').slice(-15).join('\n')}`);
    });

    const acknowledged = new Map<string, PredictionRecord>();
    let seed = 0;
    /** Predictions, one at a time and then `concurrent` at once (so that some share a commit). */
    const predictions = async (sensorId: string, sequential: number, concurrent: number): Promise<Answer[]> => {
      const out: Answer[] = [];
      for (let i = 0; i < sequential; i++) out.push(await predict(url, ++seed, sensorId));
      out.push(...(await Promise.all(Array.from({ length: concurrent }, () => predict(url, ++seed, sensorId)))));
      for (const a of out) {
        if (a.status !== 200) continue;
        const r = a.body as PredictionRecord;
        acknowledged.set(r.uid, r);
      }
      return out;
    };
    /** While the disk is full: a 200 (its record is checked with the history), else 503 store_unavailable (or 507). */
    const assertRefusedOrStored = (answers: Answer[]) => {
      for (const a of answers) {
        if (a.status === 200) continue;
        assert.ok(a.status === 503 || a.status === 507, `while full: ${a.status} ${JSON.stringify(a.body)}`);
        const code = (a.body as { code?: string }).code;
        assert.ok(code === 'store_unavailable' || code === 'insufficient_storage', `while full: ${JSON.stringify(a.body)}`);
      }
    };
    /** The history holds every acknowledged record, field for field, and no other. */
    const assertHistoryExact = async () => {
      const history = await historyByUid(url);
      for (const [uid, r] of acknowledged) assert.deepEqual(history.get(uid), r, `acknowledged record ${uid} is in the history`);
      const unacknowledged = [...history.values()].filter((r) => !acknowledged.has(r.uid));
      assert.deepEqual(unacknowledged, [], 'the history holds no record that was not acknowledged');
    };
    const readyz = async () => {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(60_000) });
      return { status: res.status, body: await res.text() };
    };
    const sizes = () => `db ${statSync(dbPath).size} B, wal ${statSync(`${dbPath}-wal`).size} B`;
    const statuses = (answers: Answer[]) => answers.map((a) => a.status).join(',');

    // Some history before the disk fills.
    for (const a of await predictions('before-full', 4, 4)) assert.equal(a.status, 200, JSON.stringify(a.body));

    // 1. Full, and the WAL has no room of its own (it has only grown so far): every commit needs
    //    new space, so every prediction is refused, and nothing of them is stored.
    t.diagnostic(`phase 1: filler of ${fillUp(filler)} bytes; ${sizes()}`);
    const full1 = await predictions('while-full', 3, 6);
    full1.push(...(await predictions('while-full', 3, 6)));
    t.diagnostic(`phase 1 (full): ${statuses(full1)}`);
    assertRefusedOrStored(full1);
    assert.ok(full1.every((a) => a.status !== 200), `the disk was full and the WAL could not grow, yet: ${statuses(full1)}`);
    // Readiness reports the store unusable while a commit cannot be written.
    const notReady = await readyz();
    t.diagnostic(`phase 1 /readyz: ${notReady.status} ${notReady.body}`);
    assert.equal(notReady.status, 503, `/readyz while full: ${notReady.body}`);
    assert.match(notReady.body, /"store":"disk full"/);
    assert.ok(running.child.exitCode === null && running.child.signalCode === null, 'the server is still running');
    // The history is read through the service while the disk is still full.
    await assertHistoryExact();

    // 2. Space comes back: the service resumes without a restart. Readiness sees it by itself,
    //    before any prediction has succeeded.
    rmSync(filler);
    const readyAgain = await readyz();
    assert.equal(readyAgain.status, 200, `/readyz once space is freed: ${readyAgain.body}`);
    const resumed = await predictions('after-full', 3, 6);
    assert.deepEqual(resumed.map((a) => a.status), resumed.map(() => 200), `after freeing space: ${JSON.stringify(resumed.find((a) => a.status !== 200)?.body)}`);
    assert.equal((await readyz()).status, 200);
    await assertHistoryExact();

    // 3. Full again, but this time the WAL has room to reuse: another connection checkpoints it
    //    (RESTART), so the next commits overwrite it from the start and need no new space, until
    //    they outgrow it. Some predictions succeed, then the rest are refused: each 200 is stored.
    const checkpointer = new Database(dbPath);
    try {
      const [cp] = checkpointer.pragma('wal_checkpoint(RESTART)') as { busy: number; log: number; checkpointed: number }[];
      assert.ok(cp && cp.busy === 0 && cp.log === cp.checkpointed, `checkpoint: ${JSON.stringify(cp)}`);
    } finally {
      checkpointer.close();
    }
    t.diagnostic(`phase 3: filler of ${fillUp(filler)} bytes; ${sizes()}`);
    const full3: Answer[] = [];
    for (let i = 0; i < 8 && !full3.some((a) => a.status !== 200); i++) full3.push(...(await predictions('while-full-again', 4, 4)));
    full3.push(...(await predictions('while-full-again', 2, 4)));
    t.diagnostic(`phase 3 (full, WAL reused): ${statuses(full3)}`);
    assertRefusedOrStored(full3);
    assert.ok(full3.some((a) => a.status !== 200), `the WAL never outgrew its room: ${statuses(full3)}`);
    await assertHistoryExact();

    // 4. Free again: resumes.
    rmSync(filler);
    const resumedAgain = await predictions('after-full-again', 2, 6);
    assert.deepEqual(resumedAgain.map((a) => a.status), resumedAgain.map(() => 200), JSON.stringify(resumedAgain.find((a) => a.status !== 200)?.body));
    assert.equal((await readyz()).status, 200);
    await assertHistoryExact();
    const whileFull = [...full1, ...full3];
    t.diagnostic(`acknowledged: ${acknowledged.size} records, ${whileFull.filter((a) => a.status === 200).length} of them while the disk was full; refused while full: ${whileFull.filter((a) => a.status !== 200).length}`);

    const code = await server.stop('SIGTERM');
    server = undefined;
    assert.equal(code, 0, 'the server exits 0 on SIGTERM');

    const db = new Database(dbPath, { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      assert.equal(db.pragma('quick_check', { simple: true }), 'ok');
      const uids = db.prepare('select uid from predictions').pluck().all() as string[];
      assert.deepEqual(new Set(uids), new Set(acknowledged.keys()), 'the database holds exactly the acknowledged records');
      // The sensor totals agree with the rows (they are written in the same transaction).
      const totals = db.prepare('select sensor_id, sum(count) as n from sensor_stats group by sensor_id order by sensor_id').all();
      const counted = db.prepare('select sensor_id, count(*) as n from predictions group by sensor_id order by sensor_id').all();
      assert.deepEqual(totals, counted, 'sensor_stats agrees with the predictions');
    } finally {
      db.close();
    }
    passed = true;
  });
});
