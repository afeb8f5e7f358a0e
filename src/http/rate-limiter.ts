/**
 * Token buckets, one per client: `perMinute` requests a minute, in bursts of at most as many.
 * In memory, per process: several instances each apply the limit on their own.
 */
export interface RateLimiter {
  /** Takes one token for `client`; returns 0 when allowed, else the seconds until one is free. */
  take(client: string): number;
}

const IDLE_MS = 10 * 60_000;
const PRUNE_AT = 10_000;

export function createRateLimiter(perMinute: number, now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const perMs = perMinute / 60_000;
  const prune = (t: number) => {
    // A bucket idle long enough is full again: forgetting it changes nothing.
    for (const [k, b] of buckets) if (t - b.at > IDLE_MS) buckets.delete(k);
    // Still full (a flood of distinct clients): forget the oldest tenth, so memory stays bounded.
    if (buckets.size >= PRUNE_AT) {
      let drop = Math.ceil(PRUNE_AT / 10);
      for (const k of buckets.keys()) {
        if (drop-- <= 0) break;
        buckets.delete(k);
      }
    }
  };
  return {
    take(client) {
      if (perMinute <= 0) return 0;
      const t = now();
      let b = buckets.get(client);
      if (!b) {
        if (buckets.size >= PRUNE_AT) prune(t);
        b = { tokens: perMinute, at: t };
        buckets.set(client, b);
      }
      b.tokens = Math.min(perMinute, b.tokens + (t - b.at) * perMs);
      b.at = t;
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
    },
  };
}
