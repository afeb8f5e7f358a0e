import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Config, OPTIONS, loadConfig } from '../src/config.js';
import { ROOT } from './plan.js';

/** The production build, started as `leakwatch serve` would be in production. */
const ENTRY = join(ROOT, 'dist/src/cli/main.js');
const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 20_000;
const OUTPUT_KEEP = 64 * 1024;

export interface ServerProcess {
  pid: number;
  url: string;
  /** The service's env vars as this server got them (its config). */
  settings: Record<string, string>;
  /** The configuration those settings give, read by the service's own loader (defaults filled in). */
  config: Config;
  /** Log lines at warn (40) or above, by pino level. */
  logLevels(): Record<string, number>;
  /** The tail of its stdout and stderr, for a failure message. */
  output(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function getStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** The env of the server: ours, minus every service option (so only `settings` and the defaults apply). */
function serverEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const option of Object.values(OPTIONS)) env[option.env] = undefined;
  for (const [key, value] of Object.entries(settings)) env[key] = value;
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));
}

/**
 * Starts `node dist/src/cli/main.js serve` on 127.0.0.1 and a free port, with a fresh SQLite
 * file in a temp dir, `LOG_LEVEL=warn` and no per-address rate limit; resolves once `/readyz` answers 200.
 */
export async function startServer(modelPath: string, overrides: Record<string, string> = {}): Promise<ServerProcess> {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run \`npm run build\` (npm run bench does)`);
  const dir = await mkdtemp(join(tmpdir(), 'leakwatch-bench-'));
  const port = await freePort();
  // One load generator on one address: the per-address rate limit would measure itself, not the service.
  const settings = { HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', DATABASE_URL: `sqlite:${join(dir, 'bench.db')}`, MODEL_PATH: modelPath, RATE_LIMIT_PER_IP: '0', ...overrides };
  const child: ChildProcess = spawn(process.execPath, [ENTRY, 'serve'], { cwd: ROOT, env: serverEnv(settings), stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  let partial = '';
  const levels: Record<string, number> = {};
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    tail = (tail + text).slice(-OUTPUT_KEEP);
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const level = /"level":(\d+)/.exec(line)?.[1] ?? (line.trim() === '' ? undefined : 'text');
      if (level !== undefined) levels[level] = (levels[level] ?? 0) + 1;
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const state = { exited: false };
  const exit = new Promise<void>((resolve) => child.once('exit', () => {
    state.exited = true;
    resolve();
  }));
  const cleanUp = async () => {
    if (!state.exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exit;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while ((await getStatus(`${url}/readyz`)) !== 200) {
    if (state.exited || Date.now() > deadline) {
      await cleanUp();
      throw new Error(`the server did not become ready (${state.exited ? `exited with code ${child.exitCode ?? '?'}` : 'timeout'}):\n${tail.slice(-4000)}`);
    }
    await sleep(100);
  }
  return {
    pid: child.pid!,
    url,
    settings,
    config: loadConfig({}, settings),
    logLevels: () => ({ ...levels }),
    output: () => tail,
    stop: cleanUp,
  };
}
