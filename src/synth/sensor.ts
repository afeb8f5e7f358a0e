import { clamp } from './field.js';
import type { Field } from './field.js';
import type { Rng } from './prng.js';

/** Sum of three uniforms: a cheap, bounded stand-in for Gaussian noise (unit variance). */
function noise(rng: Rng): number {
  return (rng.next() + rng.next() + rng.next() - 1.5) * 2;
}

/** The `lo` and `hi` quantiles of `data`, from a sample of at most ~4,096 values. */
export function percentiles(data: Float32Array, lo: number, hi: number): [number, number] {
  const step = Math.max(1, Math.floor(data.length / 4096));
  const sample: number[] = [];
  for (let i = 0; i < data.length; i += step) sample.push(data[i]!);
  sample.sort((a, b) => a - b);
  return [sample[Math.floor(lo * (sample.length - 1))]!, sample[Math.floor(hi * (sample.length - 1))]!];
}

/** The noiseless part of a camera's response: gain and offset, gamma, vignetting. */
export interface Transfer {
  gain: number;
  offset: number;
  gamma: number;
  vignette: number;
}

/** Display value in [0, 1] of temperature `v` at pixel (x, y) of a w×h frame, before noise. */
export function toDisplay(t: Transfer, v: number, x: number, y: number, w: number, h: number): number {
  let d = Math.pow(clamp(v * t.gain + t.offset, 0, 1), t.gamma);
  if (t.vignette) {
    const cx = w / 2;
    const cy = h / 2;
    d *= 1 - t.vignette * (((x - cx) ** 2 + (y - cy) ** 2) / (cx * cx + cy * cy));
  }
  return d;
}

/**
 * Turns temperatures into display values in [0, 1] the way a camera does: automatic gain with
 * random mis-settings, then the sensor's noise and defects. Returns the effects applied, and the
 * noiseless transfer (what a leak must survive to be seen).
 */
export function applySensor(rng: Rng, f: Field): { display: Float32Array; effects: string[]; transfer: Transfer } {
  const { width: w, height: h, data } = f;
  const effects: string[] = [];
  const [lo, hi] = percentiles(data, rng.uniform(0.002, 0.03), rng.uniform(0.985, 0.999));
  let gain = 1 / Math.max(1e-3, hi - lo);
  let offset = -lo * gain;
  if (rng.chance(0.15)) {
    const k = rng.uniform(0.4, 0.65);
    gain *= k;
    offset = offset * k + rng.uniform(0.1, 1 - k - 0.05);
    effects.push('low-gain');
  } else if (rng.chance(0.12)) {
    const k = rng.uniform(1.2, 1.6);
    gain *= k;
    offset = (offset - 0.5) * k + 0.5;
    effects.push('high-gain');
  }
  offset += rng.uniform(-0.05, 0.05);
  const gamma = rng.uniform(0.8, 1.25);
  const sigma = rng.uniform(0.003, 0.03);
  const colNoise = rng.chance(0.3) ? new Float32Array(w).map(() => noise(rng) * rng.uniform(0.005, 0.02)) : null;
  const rowNoise = rng.chance(0.2) ? new Float32Array(h).map(() => noise(rng) * rng.uniform(0.005, 0.02)) : null;
  const vignette = rng.chance(0.35) ? rng.uniform(0.1, 0.35) : 0;
  if (colNoise || rowNoise) effects.push('pattern-noise');
  if (vignette) effects.push('vignette');
  const transfer: Transfer = { gain, offset, gamma, vignette };
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let v = toDisplay(transfer, data[i]!, x, y, w, h);
      v += sigma * noise(rng);
      if (colNoise) v += colNoise[x]!;
      if (rowNoise) v += rowNoise[y]!;
      out[i] = v;
    }
  }
  if (rng.chance(0.2)) {
    const n = rng.int(5, 200);
    for (let k = 0; k < n; k++) out[rng.int(0, w * h)] = rng.chance(0.5) ? 1 : 0;
    effects.push('bad-pixels');
  }
  if (rng.chance(0.08)) {
    const v = rng.chance(0.5) ? 1 : 0;
    if (rng.chance(0.5)) { const x = rng.int(0, w); for (let y = 0; y < h; y++) out[y * w + x] = v; }
    else { const y = rng.int(0, h); out.fill(v, y * w, y * w + w); }
    effects.push('dead-line');
  }
  if (rng.chance(0.25)) {
    drawOverlay(rng, out, w, h);
    effects.push('overlay');
  }
  for (let i = 0; i < out.length; i++) out[i] = clamp(out[i]!, 0, 1);
  return { display: out, effects, transfer };
}

/** Camera overlays: a colour scale bar, a centre crosshair and a timestamp block. */
function drawOverlay(rng: Rng, out: Float32Array, w: number, h: number): void {
  const s = Math.min(w, h);
  const barW = Math.max(3, Math.round(w * 0.025));
  const x0 = w - barW - Math.round(w * 0.02);
  const y0 = Math.round(h * 0.2);
  const y1 = Math.round(h * 0.8);
  for (let y = y0; y < y1; y++) out.fill(1 - (y - y0) / (y1 - y0), y * w + x0, y * w + x0 + barW);
  if (rng.chance(0.7)) {
    const arm = Math.round(s * 0.04);
    const v = rng.chance(0.5) ? 1 : 0;
    const cx = Math.floor(w / 2);
    const cy = Math.floor(h / 2);
    for (let d = -arm; d <= arm; d++) { out[cy * w + cx + d] = v; out[(cy + d) * w + cx] = v; }
  }
  if (rng.chance(0.6)) {
    const bh = Math.max(4, Math.round(h * 0.04));
    const bw = Math.round(w * rng.uniform(0.15, 0.3));
    for (let y = 2; y < 2 + bh; y++) {
      for (let x = 2; x < 2 + bw; x++) out[y * w + x] = (Math.floor(x / 3) * 7 + y) % 5 < 2 ? 1 : 0.1;
    }
  }
}
