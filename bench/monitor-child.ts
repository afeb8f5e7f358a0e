import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FromMonitor, MonitorSamples, ToMonitor } from './monitor-protocol.js';
import { vmRssKb } from './proc.js';

/*
 * Watches the server from a process of its own, so that neither the probe's latency nor the RSS
 * sampling is delayed by the load generator's event loop: GET /healthz in a loop (one at a time,
 * every ~probeEveryMs) and VmRSS from /proc/PID/status (worker threads share the process).
 */

const PROBE_TIMEOUT_MS = 10_000;
let current: { samples: MonitorSamples; stop: () => Promise<void> } | undefined;

/** utime + stime of the whole process, in seconds (USER_HZ is 100 on Linux). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function probe(agent: Agent, url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`${url}/healthz`, { agent, timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

function start(msg: Extract<ToMonitor, { type: 'start' }>) {
  const samples: MonitorSamples = { healthz: [], rss: [], cpuSeconds: 0, seconds: 0 };
  const t0 = performance.now();
  const cpu0 = cpuSeconds(msg.pid);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  // An object, so that the loop sees stop() flip it.
  const state = { running: true };
  const sampleRss = () => {
    const kb = vmRssKb(msg.pid);
    if (kb !== undefined) samples.rss.push({ t: performance.now() - t0, kb, cpu: cpuSeconds(msg.pid) - cpu0 });
  };
  sampleRss();
  const rssTimer = setInterval(sampleRss, msg.rssEveryMs);
  const prober = (async () => {
    while (state.running) {
      const started = performance.now();
      const status = await probe(agent, msg.url);
      const ms = performance.now() - started;
      samples.healthz.push({ t: started - t0, ms, status });
      await sleep(Math.max(0, msg.probeEveryMs - ms));
    }
  })();
  return {
    samples,
    async stop() {
      state.running = false;
      clearInterval(rssTimer);
      sampleRss();
      samples.cpuSeconds = cpuSeconds(msg.pid) - cpu0;
      samples.seconds = (performance.now() - t0) / 1000;
      await prober;
      agent.destroy();
    },
  };
}

async function handle(msg: ToMonitor): Promise<FromMonitor | undefined> {
  switch (msg.type) {
    case 'start':
      if (current) throw new Error('already monitoring');
      current = start(msg);
      return { type: 'started' };
    case 'stop': {
      if (!current) throw new Error('not monitoring');
      const { samples, stop } = current;
      current = undefined;
      await stop();
      return { type: 'stopped', samples };
    }
    case 'exit':
      await current?.stop();
      process.disconnect();
      return undefined;
  }
}

process.on('message', (raw: unknown) => {
  handle(raw as ToMonitor).then(
    (reply) => reply && process.send?.(reply),
    (err: unknown) => process.send?.({ type: 'error', message: err instanceof Error ? err.message : String(err) } satisfies FromMonitor),
  );
});
