import { request } from 'node:http';

/** The few Prometheus samples of the service the bench reads: batching and event-loop lag. */
export interface ServerMetrics {
  batchSizeSum: number;
  batchCount: number;
  batchSecondsSum: number;
  /** Event-loop delay since the previous scrape (prom-client resets it on every scrape). */
  lagP99Seconds: number;
  lagMaxSeconds: number;
}

const NAMES: Record<string, keyof ServerMetrics> = {
  leakwatch_inference_batch_size_sum: 'batchSizeSum',
  leakwatch_inference_batch_size_count: 'batchCount',
  leakwatch_inference_batch_duration_seconds_sum: 'batchSecondsSum',
  leakwatch_nodejs_eventloop_lag_p99_seconds: 'lagP99Seconds',
  leakwatch_nodejs_eventloop_lag_max_seconds: 'lagMaxSeconds',
};

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('GET /metrics timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Scrapes GET /metrics; undefined when it fails (metrics are a side dish, not a result). */
export async function scrapeMetrics(baseUrl: string): Promise<ServerMetrics | undefined> {
  let text: string;
  try {
    text = await get(`${baseUrl}/metrics`);
  } catch {
    return undefined;
  }
  const out: ServerMetrics = { batchSizeSum: 0, batchCount: 0, batchSecondsSum: 0, lagP99Seconds: Number.NaN, lagMaxSeconds: Number.NaN };
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{[^}]*\})? (\S+)$/.exec(line);
    const key = match ? NAMES[match[1]!] : undefined;
    if (key) out[key] = Number(match![2]);
  }
  return out;
}
