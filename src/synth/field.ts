import type { Rng } from './prng.js';

/** A single-channel float image, row-major; scene values are relative temperatures. */
export interface Field {
  width: number;
  height: number;
  data: Float32Array;
}

export interface Point {
  x: number;
  y: number;
}

export function createField(width: number, height: number, fill = 0): Field {
  return { width, height, data: new Float32Array(width * height).fill(fill) };
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

export function smoothstep(edge0: number, edge1: number, v: number): number {
  const t = clamp((v - edge0) / (edge1 - edge0), 0, 1);
  return t * t * (3 - 2 * t);
}

/** Integer pixel bounds of a box, clipped to the field. */
export function bounds(f: Field, x0: number, y0: number, x1: number, y1: number): [number, number, number, number] {
  return [
    Math.max(0, Math.floor(x0)),
    Math.max(0, Math.floor(y0)),
    Math.min(f.width - 1, Math.ceil(x1)),
    Math.min(f.height - 1, Math.ceil(y1)),
  ];
}

/**
 * Smooth value noise in [0, 1] over a coarse lattice of `cell` pixels, smoothstep-interpolated.
 * Lattice values come from the rng, so the noise is as deterministic as the seed.
 */
export class ValueNoise {
  private readonly gw: number;
  private readonly values: Float32Array;

  constructor(rng: Rng, width: number, height: number, private readonly cell: number) {
    this.gw = Math.ceil(width / cell) + 2;
    const gh = Math.ceil(height / cell) + 2;
    this.values = new Float32Array(this.gw * gh);
    for (let i = 0; i < this.values.length; i++) this.values[i] = rng.next();
  }

  at(x: number, y: number): number {
    const fx = clamp(x, 0, 1e6) / this.cell;
    const fy = clamp(y, 0, 1e6) / this.cell;
    const ix = Math.floor(fx);
    const iy = Math.floor(fy);
    let tx = fx - ix;
    let ty = fy - iy;
    tx = tx * tx * (3 - 2 * tx);
    ty = ty * ty * (3 - 2 * ty);
    const i = iy * this.gw + ix;
    const v = this.values;
    const top = v[i]! + (v[i + 1]! - v[i]!) * tx;
    const bottom = v[i + this.gw]! + (v[i + this.gw + 1]! - v[i + this.gw]!) * tx;
    return top + (bottom - top) * ty;
  }
}

export interface OrientedBox {
  cx: number;
  cy: number;
  /** Unit axis along the box's length. */
  ux: number;
  uy: number;
  halfLength: number;
  halfWidth: number;
}

/**
 * Paints an oriented box with antialiased edges. `value(s, t)` gives the temperature at
 * local coordinates (s along the axis, t across, t normalised to [-1, 1]).
 */
export function paintBox(f: Field, box: OrientedBox, value: (s: number, t: number) => number, mask?: Uint8Array): void {
  const { cx, cy, ux, uy, halfLength: a, halfWidth: b } = box;
  const ex = Math.abs(ux) * a + Math.abs(uy) * b + 1;
  const ey = Math.abs(uy) * a + Math.abs(ux) * b + 1;
  const [x0, y0, x1, y1] = bounds(f, cx - ex, cy - ey, cx + ex, cy + ey);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const s = dx * ux + dy * uy;
      const t = -dx * uy + dy * ux;
      const cover = clamp(a - Math.abs(s) + 0.5, 0, 1) * clamp(b - Math.abs(t) + 0.5, 0, 1);
      if (cover <= 0) continue;
      const i = y * f.width + x;
      f.data[i] = f.data[i]! + (value(s, t / b) - f.data[i]!) * cover;
      if (mask && cover > 0.5) mask[i] = 1;
    }
  }
}

/** Paints a disc with antialiased edges. */
export function paintDisc(f: Field, c: Point, r: number, value: number, mask?: Uint8Array): void {
  const [x0, y0, x1, y1] = bounds(f, c.x - r - 1, c.y - r - 1, c.x + r + 1, c.y + r + 1);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const d = Math.hypot(x + 0.5 - c.x, y + 0.5 - c.y);
      const cover = clamp(r - d + 0.5, 0, 1);
      if (cover <= 0) continue;
      const i = y * f.width + x;
      f.data[i] = f.data[i]! + (value - f.data[i]!) * cover;
      if (mask && cover > 0.5) mask[i] = 1;
    }
  }
}

/** Adds an elliptical Gaussian bump (sigma along the axis `angle`, and across it). */
export function addGaussian(f: Field, c: Point, sigmaA: number, sigmaB: number, angle: number, amp: number): void {
  const r = 3 * Math.max(sigmaA, sigmaB);
  const [x0, y0, x1, y1] = bounds(f, c.x - r, c.y - r, c.x + r, c.y + r);
  const ux = Math.cos(angle);
  const uy = Math.sin(angle);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - c.x;
      const dy = y + 0.5 - c.y;
      const s = (dx * ux + dy * uy) / sigmaA;
      const t = (-dx * uy + dy * ux) / sigmaB;
      const i = y * f.width + x;
      f.data[i] = f.data[i]! + amp * Math.exp(-0.5 * (s * s + t * t));
    }
  }
}
