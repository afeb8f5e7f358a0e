/**
 * Backpressure: a bound on the predict requests in the service at once, from the moment they
 * arrive (before their body is read) until they are answered. It bounds memory as well as the
 * queue, since every admitted request may hold an upload (decoded only in the inference worker,
 * one image at a time).
 */
export interface Admission {
  tryEnter(): boolean;
  leave(): void;
  readonly inUse: number;
  readonly limit: number;
}

export function createAdmission(limit: number): Admission {
  let inUse = 0;
  return {
    tryEnter() {
      if (inUse >= limit) return false;
      inUse++;
      return true;
    },
    leave() {
      if (inUse > 0) inUse--;
    },
    get inUse() {
      return inUse;
    },
    limit,
  };
}

/** Seconds until the work ahead of a rejected request has likely drained: at least 1. */
export function retryAfterSeconds(inUse: number, msPerImage: number, workers: number): number {
  if (msPerImage <= 0 || workers <= 0) return 1;
  return Math.max(1, Math.ceil((inUse * msPerImage) / workers / 1000));
}
