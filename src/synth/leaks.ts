import { bounds, clamp, createField, smoothstep, ValueNoise, type Field, type Point } from './field.js';
import type { Rng } from './prng.js';
import type { Fitting, Scene } from './scene.js';
import { percentiles, toDisplay, type Transfer } from './sensor.js';

export type LeakKind = 'plume' | 'jet' | 'puddle';

export interface Leak {
  kind: LeakKind;
  /** 0..1: peak temperature change as a fraction of the fluid's contrast with ambient. */
  strength: number;
  source: Point;
}

export type Box = [number, number, number, number];

/** Least share of the frame a leak must change by a tenth of the range, in temperatures and on the display. */
export const MIN_LEAK_AREA = 0.004;

/** Adds `amp * shape(along, across)` over a cone from `src` along `dir`, within `length`. */
function addCone(f: Field, src: Point, dir: Point, length: number, halfWidthAt: (a: number) => number,
  profile: (a: number, across: number, x: number, y: number) => number): void {
  const maxW = halfWidthAt(length) * 2.5;
  const ends = [src, { x: src.x + dir.x * length, y: src.y + dir.y * length }];
  const [x0, y0, x1, y1] = bounds(f,
    Math.min(ends[0]!.x, ends[1]!.x) - maxW, Math.min(ends[0]!.y, ends[1]!.y) - maxW,
    Math.max(ends[0]!.x, ends[1]!.x) + maxW, Math.max(ends[0]!.y, ends[1]!.y) + maxW);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - src.x;
      const dy = y + 0.5 - src.y;
      const a = dx * dir.x + dy * dir.y;
      if (a < -halfWidthAt(0) || a > length) continue;
      const across = (-dx * dir.y + dy * dir.x) / halfWidthAt(Math.max(a, 0));
      if (Math.abs(across) > 2.5) continue;
      f.data[y * f.width + x]! += profile(a, across, x, y);
    }
  }
}

function plume(rng: Rng, f: Field, fit: Fitting, src: Point, amp: number): void {
  const s = Math.min(f.width, f.height);
  const angle = -Math.PI / 2 + rng.uniform(-0.7, 0.7);
  const dir = { x: Math.cos(angle), y: Math.sin(angle) };
  const length = s * rng.uniform(0.2, 0.55);
  const w0 = Math.max(1.2, fit.radius * rng.uniform(0.5, 1));
  const spread = Math.tan(rng.uniform(0.2, 0.45));
  const turb = new ValueNoise(rng, f.width, f.height, Math.max(2, w0 * rng.uniform(1, 2.5)));
  const turbAmt = rng.uniform(0.3, 0.8);
  const meander = rng.uniform(0, 0.25);
  const phase = rng.uniform(0, 6.28);
  const decay = length * rng.uniform(0.5, 1);
  addCone(f, src, dir, length, (a) => w0 + a * spread, (a, across, x, y) => {
    const bend = meander * Math.sin(a / (length * 0.3) + phase) * (a / length) * 2;
    const q = across - bend;
    const onset = smoothstep(-w0, w0 * 0.5, a);
    const fade = Math.exp(-Math.max(a, 0) / decay) * (1 - smoothstep(length * 0.7, length, a));
    const texture = 1 - turbAmt + turbAmt * 2 * turb.at(x, y);
    return amp * onset * fade * texture * Math.exp(-q * q * 1.5);
  });
}

function jet(rng: Rng, f: Field, fit: Fitting, src: Point, amp: number): void {
  const s = Math.min(f.width, f.height);
  // Jets leave across the pipe axis, give or take 60 degrees.
  const side = rng.chance(0.5) ? 1 : -1;
  const base = Math.atan2(fit.axis.x * side, -fit.axis.y * side);
  const angle = base + rng.uniform(-1.05, 1.05);
  const dir = { x: Math.cos(angle), y: Math.sin(angle) };
  const length = s * rng.uniform(0.14, 0.38);
  const w0 = Math.max(0.8, fit.radius * rng.uniform(0.15, 0.35));
  // A turbulent free jet widens at a half-angle of about 11 degrees (0.19 rad), whatever its
  // pressure; narrower spreads drew needles thinner than a pixel at the model's input size.
  const spread = Math.tan(rng.uniform(0.15, 0.24));
  const noise = new ValueNoise(rng, f.width, f.height, Math.max(2, length * 0.15));
  addCone(f, src, dir, length, (a) => w0 + a * spread, (a, across, x, y) => {
    const t = clamp(a / length, 0, 1);
    const along = Math.pow(1 - t, 0.8) * smoothstep(-w0, 0, a);
    const core = 1 + 0.6 * Math.exp(-a / (length * 0.1));
    return amp * along * core * (0.75 + 0.5 * noise.at(x, y)) * Math.exp(-across * across * 2);
  });
}

function puddle(rng: Rng, f: Field, scene: Scene, fit: Fitting, src: Point, amp: number): void {
  const s = scene.scale;
  const rx = s * rng.uniform(0.05, 0.16);
  const ry = rx * rng.uniform(0.3, 0.6);
  const floor = scene.floorY !== null && scene.floorY > src.y + fit.radius * 2 ? scene.floorY + ry : null;
  const drop = floor !== null ? floor - src.y : s * rng.uniform(0.08, 0.28);
  const c = { x: src.x + rng.uniform(-0.5, 0.5) * rx, y: Math.min(src.y + drop, f.height - ry * 0.5) };
  const harmonics = Array.from({ length: 4 }, (_, k) => ({ a: rng.uniform(0, 0.25) / (k + 1), p: rng.uniform(0, 6.28), k: k + 2 }));
  const puddleAmp = amp * rng.uniform(0.55, 1);
  const [x0, y0, x1, y1] = bounds(f, c.x - rx * 1.6, c.y - ry * 1.6, c.x + rx * 1.6, c.y + ry * 1.6);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = (x + 0.5 - c.x) / rx;
      const dy = (y + 0.5 - c.y) / ry;
      const d = Math.hypot(dx, dy);
      const th = Math.atan2(dy, dx);
      let edge = 1;
      for (const h of harmonics) edge += h.a * Math.sin(h.k * th + h.p);
      const inside = 1 - smoothstep(edge - 0.15, edge + 0.05, d);
      if (inside > 0) f.data[y * f.width + x]! += puddleAmp * inside * (0.75 + 0.25 * (1 - d / edge));
    }
  }
  // The drip trail ties the puddle to the fitting it comes from.
  const trail = { x: c.x - src.x, y: c.y - src.y };
  const len = Math.hypot(trail.x, trail.y);
  const dir = { x: trail.x / len, y: trail.y / len };
  const w = Math.max(0.7, fit.radius * rng.uniform(0.12, 0.3));
  const trailAmp = amp * rng.uniform(0.5, 0.9);
  addCone(f, src, dir, len, () => w, (a, across) => trailAmp * smoothstep(-w, 0, a) * Math.exp(-across * across * 2));
}

/** Renders one leak escaping from a visible fitting into `delta` (a zeroed field). */
function drawLeak(rng: Rng, scene: Scene, delta: Field, strength: number): Leak {
  const visible = scene.fittings.filter((ft) => {
    const { x, y } = ft.centre;
    return x > 0.08 * delta.width && x < 0.92 * delta.width && y > 0.08 * delta.height && y < 0.92 * delta.height;
  });
  const fit = rng.pick(visible.length > 0 ? visible : scene.fittings);
  const src = rng.pick(fit.sources);
  const amp = strength * (fit.fluid - scene.ambient) * 2;
  const kind = rng.pick(['plume', 'plume', 'jet', 'puddle'] as const);
  if (kind === 'plume') plume(rng, delta, fit, src, amp);
  else if (kind === 'jet') jet(rng, delta, fit, src, amp);
  else puddle(rng, delta, scene, fit, src, amp);
  return { kind, strength, source: src };
}

/** Area fraction and bounding box of the pixels where `changed(i)` holds. */
function extent(width: number, height: number, changed: (i: number) => boolean): { area: number; box: Box | null } {
  let n = 0;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let i = 0; i < width * height; i++) {
    if (!changed(i)) continue;
    n++;
    const x = i % width;
    const y = (i - x) / width;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return { area: n / (width * height), box: n > 0 ? [x0, y0, x1 + 1, y1 + 1] : null };
}

/** Where the leak changes the scene by more than 10% of its range: area fraction and bounding box. */
function footprint(scene: Scene, delta: Field): { area: number; box: Box | null } {
  const [lo, hi] = percentiles(scene.field.data, 0.005, 0.995);
  const range = hi - lo;
  return extent(delta.width, delta.height, (i) => Math.abs(delta.data[i]!) > 0.1 * range);
}

/**
 * Where the camera shows the leak: pixels whose noiseless display value (`field` holds the
 * scene with its leak) moves by more than a tenth of the display range when the leak is taken
 * away. Gain that clips the leak's temperatures, or a leak into a saturated background, leaves
 * nothing here however hot the leak is.
 */
export function visibleFootprint(field: Field, delta: Field, transfer: Transfer): { area: number; box: Box | null } {
  const { width: w, height: h } = field;
  return extent(w, h, (i) => {
    const d = delta.data[i]!;
    if (d === 0) return false;
    const x = i % w;
    const y = (i - x) / w;
    const v = field.data[i]!;
    return Math.abs(toDisplay(transfer, v, x, y, w, h) - toDisplay(transfer, v - d, x, y, w, h)) > 0.1;
  });
}

/**
 * Adds one leak to the scene and returns it with its temperature change. A leak that would hide
 * (off-frame, too thin) is drawn again elsewhere; faint leaks stay faint. Whether the camera then
 * shows it is `visibleFootprint`'s question.
 */
export function addLeak(rng: Rng, scene: Scene, strength: number): { leak: Leak; delta: Field } {
  const { width, height } = scene.field;
  let leak: Leak | null = null;
  let delta = createField(width, height);
  for (let attempt = 0; attempt < 12; attempt++) {
    delta = createField(width, height);
    const s = Math.min(1, strength * (attempt < 6 ? 1 : 1.25 ** (attempt - 5)));
    leak = drawLeak(rng, scene, delta, s);
    if (footprint(scene, delta).area >= MIN_LEAK_AREA) break;
  }
  const data = scene.field.data;
  for (let i = 0; i < data.length; i++) data[i] = data[i]! + delta.data[i]!;
  return { leak: leak!, delta };
}
