import type { Config } from '../config.js';
import { startServer } from '../server.js';
import { fail } from './options.js';
import { oneLine } from './one-line.js';

const SHUTDOWN_GRACE_MS = 30_000;

export async function runServe(config: Config): Promise<void> {
  let server;
  try {
    server = await startServer(config);
  } catch (err) {
    fail(oneLine(err, config));
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down: draining requests in flight');
    setTimeout(() => {
      server.app.log.error('shutdown grace period over; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        server.app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
