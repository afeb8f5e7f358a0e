/** Messages between the bench and its monitor child (bench/monitor-child.ts), over IPC. */

export interface MonitorSamples {
  /** GET /healthz round trips: ms since the monitor started, latency in ms, status (0: no answer). */
  healthz: { t: number; ms: number; status: number }[];
  /** Every ~100 ms: ms since the monitor started, the server's VmRSS in kB, its CPU seconds so far. */
  rss: { t: number; kb: number; cpu: number }[];
  /** CPU time (user + system, all threads) the server used while monitored, and for how long it was monitored. */
  cpuSeconds: number;
  seconds: number;
}

export type ToMonitor =
  | { type: 'start'; url: string; pid: number; probeEveryMs: number; rssEveryMs: number }
  | { type: 'stop' }
  | { type: 'exit' };

export type FromMonitor = { type: 'started' } | { type: 'stopped'; samples: MonitorSamples } | { type: 'error'; message: string };
