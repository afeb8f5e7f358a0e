import type { Config } from '../config.js';
import { type RunningServer, startServer } from '../server.js';
import { isClusterPrimary, runPrimary } from './cluster.js';
import { fail } from './options.js';
import { oneLine } from './one-line.js';

/** How long SIGTERM waits for requests in flight before exiting anyway. */
export const SHUTDOWN_GRACE_MS = 30_000;

/** Serves until SIGTERM or SIGINT, then drains the requests in flight and exits 0. */
export async function runServe(config: Config): Promise<void> {
  if (isClusterPrimary(config)) {
    try {
      await runPrimary(config, SHUTDOWN_GRACE_MS);
    } catch (err) {
      fail(oneLine(err, config));
    }
    return;
  }
  let server: RunningServer | undefined;
  const state = { stopping: false };
  const stop = (signal: string) => {
    if (state.stopping) return;
    state.stopping = true;
    // A signal during start-up is handled once the server is up (or has failed to start).
    if (!server) return;
    const { app } = server;
    app.log.info({ signal }, 'shutting down: draining requests in flight');
    setTimeout(() => {
      app.log.error('shutdown grace period over; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    server = await startServer(config);
  } catch (err) {
    fail(oneLine(err, config));
  }
  if (state.stopping) {
    state.stopping = false;
    stop('signal during start-up');
  }
}
