import { setTimeout as sleep } from 'node:timers/promises';
import type { HistoryStore } from './history-store.js';

export interface RetentionOptions {
  days: number;
  /** Records deleted per transaction: small, so a purge never holds the writer for long. */
  batch?: number;
  /** Pause between batches, so predictions commit in between. */
  pauseMs?: number;
  /** Time between purges. */
  everyMs?: number;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface Retention {
  /** One purge now: deletes every record older than the cutoff, batch by batch. Returns how many. */
  purgeNow(): Promise<number>;
  stop(): Promise<void>;
}

const DAY_MS = 86_400_000;

/** Deletes records older than `days`, at start and then periodically, in small batches. */
export function startRetention(history: HistoryStore, options: RetentionOptions): Retention {
  const { days, batch = 1000, pauseMs = 20, everyMs = 10 * 60_000, log } = options;
  const abort = new AbortController();
  let running: Promise<number> | undefined;

  const purge = async (): Promise<number> => {
    const cutoff = new Date(Date.now() - days * DAY_MS).toISOString();
    let total = 0;
    for (;;) {
      const n = await history.purgeBefore(cutoff, batch);
      total += n;
      if (n < batch || abort.signal.aborted) break;
      await sleep(pauseMs);
    }
    if (total > 0) log.info({ deleted: total, before: cutoff }, 'retention: purged old records');
    return total;
  };
  const purgeNow = () => (running ??= purge().finally(() => { running = undefined; }));

  const loop = async () => {
    while (!abort.signal.aborted) {
      try {
        await purgeNow();
      } catch (err) {
        // The store may be away (PostgreSQL restarting); the next round retries.
        log.warn({ err }, 'retention: purge failed; retrying later');
      }
      await sleep(everyMs, undefined, { signal: abort.signal, ref: false }).catch(() => {});
    }
  };
  void loop();
  return {
    purgeNow,
    async stop() {
      abort.abort();
      await running?.catch(() => 0);
    },
  };
}
