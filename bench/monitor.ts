import { IpcChild } from './ipc-child.js';
import type { FromMonitor, MonitorSamples, ToMonitor } from './monitor-protocol.js';

const PROBE_EVERY_MS = 50;
const RSS_EVERY_MS = 100;

/** The bench's handle on its monitor child: healthz prober and RSS sampler of one server. */
export class Monitor {
  private readonly child = new IpcChild<ToMonitor, FromMonitor>('./monitor-child.ts');

  async start(url: string, pid: number): Promise<void> {
    await this.child.request({ type: 'start', url, pid, probeEveryMs: PROBE_EVERY_MS, rssEveryMs: RSS_EVERY_MS }, 'started');
  }

  async stop(): Promise<MonitorSamples> {
    return (await this.child.request({ type: 'stop' }, 'stopped')).samples;
  }

  close(): Promise<void> {
    return this.child.close({ type: 'exit' });
  }
}
