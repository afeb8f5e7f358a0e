import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ROOT } from './plan.js';

/**
 * A TypeScript child process (run through tsx) answering one message with one message, in order.
 * The bench's helpers (raw ORT, monitor) are children so that they have their own event loop
 * and, for raw ORT, the CPU to themselves.
 */
export class IpcChild<Req extends { type: string }, Res extends { type: string }> {
  private readonly child: ChildProcess;
  private waiting: { resolve: (r: Res) => void; reject: (e: Error) => void } | undefined;
  private exited = false;

  constructor(private readonly script: string) {
    this.child = fork(fileURLToPath(new URL(script, import.meta.url)), [], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (msg: unknown) => {
      const pending = this.waiting;
      this.waiting = undefined;
      const res = msg as Res | { type: 'error'; message: string };
      if (res.type === 'error' && 'message' in res) pending?.reject(new Error(`${script}: ${res.message}`));
      else pending?.resolve(res as Res);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      this.waiting?.reject(new Error(`${script} exited (${signal ?? `code ${code ?? '?'}`})`));
      this.waiting = undefined;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends `msg` and resolves with the child's answer of type `expect`. */
  request<T extends Res['type']>(msg: Req, expect: T): Promise<Extract<Res, { type: T }>> {
    if (this.exited) return Promise.reject(new Error(`${this.script} is not running`));
    if (this.waiting) return Promise.reject(new Error(`${this.script}: one request at a time`));
    return new Promise((resolve, reject) => {
      this.waiting = {
        resolve: (res) => {
          if (res.type === expect) resolve(res as Extract<Res, { type: T }>);
          else reject(new Error(`${this.script}: expected ${expect}, got ${res.type}`));
        },
        reject,
      };
      this.child.send(msg);
    });
  }

  /** Asks the child to leave (it disconnects), and kills it if it has not within `graceMs`. */
  async close(bye: Req, graceMs = 5000): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send(bye);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }
}
