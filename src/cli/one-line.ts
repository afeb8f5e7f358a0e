import type { Config } from '../config.js';
import { redactDatabaseUrl } from '../store/dialect.js';

/** Start-up failures as one line that says what failed and what to do. */
export function oneLine(err: unknown, config: Config): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE') return `port ${config.port} on ${config.host} is already in use. Stop the other process or set PORT (--port).`;
  if (e.code === 'EACCES' && e.syscall === 'listen') return `not allowed to listen on port ${config.port}. Use a port above 1023 or set PORT (--port).`;
  if (e.code === 'SQLITE_CANTOPEN' || e.code === 'EACCES' || e.code === 'EROFS') {
    return `cannot open the history database (${redactDatabaseUrl(config.databaseUrl)}): ${e.message}. Check DATABASE_URL and that its directory is writable.`;
  }
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}
