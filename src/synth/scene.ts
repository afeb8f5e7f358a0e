import { createField, paintBox, paintDisc, ValueNoise, type Field, type Point } from './field.js';
import type { Rng } from './prng.js';

export type FittingKind = 'flange' | 'joint' | 'valve';

/** A fitting on a pipe, with the points a leak may escape from. */
export interface Fitting {
  kind: FittingKind;
  centre: Point;
  /** Fluid temperature of the pipe it sits on. */
  fluid: number;
  /** Pipe radius in pixels, the natural length scale for the leak. */
  radius: number;
  /** Unit vector along the pipe. */
  axis: Point;
  sources: Point[];
}

export interface Scene {
  field: Field;
  /** 1 where equipment (pipes and fittings) covers the pixel. */
  mask: Uint8Array;
  fittings: Fitting[];
  ambient: number;
  /** Largest |fluid − ambient| in the scene: the contrast scale for anomalies. */
  contrast: number;
  /** min(width, height): the geometric scale. */
  scale: number;
  floorY: number | null;
}

interface PipeLine {
  centre: Point;
  axis: Point;
  radius: number;
  fluid: number;
}

function paintBackground(rng: Rng, f: Field, ambient: number): number | null {
  const { width: w, height: h, data } = f;
  const s = Math.min(w, h);
  const coarse = new ValueNoise(rng, w, h, s * rng.uniform(0.25, 0.5));
  const fine = new ValueNoise(rng, w, h, s * rng.uniform(0.04, 0.1));
  const gx = rng.uniform(-0.06, 0.06);
  const gy = rng.uniform(-0.08, 0.08);
  const coarseAmp = rng.uniform(0.02, 0.1);
  const fineAmp = rng.uniform(0, 0.03);
  const floorY = rng.chance(0.6) ? rng.uniform(0.65, 0.95) * h : null;
  const floorDelta = rng.uniform(-0.08, 0.06);
  for (let y = 0; y < h; y++) {
    const onFloor = floorY !== null && y >= floorY;
    for (let x = 0; x < w; x++) {
      let v = ambient + gx * (x / w - 0.5) + gy * (y / h - 0.5);
      v += coarseAmp * (coarse.at(x, y) - 0.5) + fineAmp * (fine.at(x, y) - 0.5);
      if (onFloor) v += floorDelta + 0.04 * ((y - floorY) / h);
      data[y * w + x] = v;
    }
  }
  // Beams and wall panels: structure that is not equipment and never leaks.
  const beams = rng.int(0, 3);
  for (let i = 0; i < beams; i++) {
    const vertical = rng.chance(0.5);
    const temp = ambient + rng.uniform(-0.06, 0.06);
    paintBox(f, {
      cx: rng.uniform(0, w), cy: rng.uniform(0, h),
      ux: vertical ? 0 : 1, uy: vertical ? 1 : 0,
      halfLength: rng.uniform(0.3, 1) * Math.max(w, h), halfWidth: s * rng.uniform(0.03, 0.12),
    }, () => temp);
  }
  return floorY;
}

function randomPipe(rng: Rng, w: number, h: number, ambient: number): PipeLine {
  const s = Math.min(w, h);
  const r = rng.next();
  let angle: number;
  let centre: Point;
  if (r < 0.5) {
    angle = rng.uniform(-0.08, 0.08);
    centre = { x: w / 2, y: rng.uniform(0.15, 0.8) * h };
  } else if (r < 0.8) {
    angle = Math.PI / 2 + rng.uniform(-0.08, 0.08);
    centre = { x: rng.uniform(0.12, 0.88) * w, y: h / 2 };
  } else {
    angle = rng.uniform(0.35, 1.2) * (rng.chance(0.5) ? 1 : -1);
    centre = { x: rng.uniform(0.3, 0.7) * w, y: rng.uniform(0.3, 0.7) * h };
  }
  const hot = rng.chance(0.8);
  const fluid = hot ? ambient + rng.uniform(0.25, 0.7) : ambient - rng.uniform(0.2, 0.45);
  return { centre, axis: { x: Math.cos(angle), y: Math.sin(angle) }, radius: s * rng.uniform(0.025, 0.065), fluid };
}

/** A point along the pipe that lies well inside the frame, or null after a few tries. */
function pointOnPipe(rng: Rng, p: PipeLine, w: number, h: number, margin: number): Point | null {
  const reach = Math.hypot(w, h) / 2;
  for (let i = 0; i < 40; i++) {
    const t = rng.uniform(-reach, reach);
    const q = { x: p.centre.x + p.axis.x * t, y: p.centre.y + p.axis.y * t };
    if (q.x > margin * w && q.x < (1 - margin) * w && q.y > margin * h && q.y < (1 - margin) * h) return q;
  }
  return null;
}

function paintFitting(rng: Rng, scene: Scene, p: PipeLine, c: Point, kind: FittingKind): Fitting {
  const { field: f, mask, ambient } = scene;
  const r = p.radius;
  const temp = ambient + (p.fluid - ambient) * rng.uniform(0.55, 0.95);
  const n = { x: -p.axis.y, y: p.axis.x };
  // The side of the pipe that faces up, where stems point and plumes start.
  const up = n.y <= 0 ? n : { x: -n.x, y: -n.y };
  const sources: Point[] = [];
  const at = (k: number, dir: Point, along = 0): Point =>
    ({ x: c.x + dir.x * k + p.axis.x * along, y: c.y + dir.y * k + p.axis.y * along });
  if (kind === 'valve') {
    const body = r * rng.uniform(1.3, 1.8);
    paintDisc(f, c, body, temp, mask);
    const stem = r * rng.uniform(1.6, 2.6);
    const top = at(body + stem, up);
    paintBox(f, { cx: (c.x + top.x) / 2, cy: (c.y + top.y) / 2, ux: up.x, uy: up.y, halfLength: (body + stem) / 2, halfWidth: r * 0.3 }, () => temp * 0.95 + ambient * 0.05, mask);
    paintBox(f, { cx: top.x, cy: top.y, ux: p.axis.x, uy: p.axis.y, halfLength: r * rng.uniform(1, 1.6), halfWidth: r * 0.28 }, () => temp * 0.8 + ambient * 0.2, mask);
    sources.push(at(body * 0.9, up), at(body * 0.9, { x: -up.x, y: -up.y }), at(body + stem * 0.5, up), at(body * 0.7, p.axis), at(body * 0.7, { x: -p.axis.x, y: -p.axis.y }));
  } else {
    const halfWidth = r * (kind === 'flange' ? rng.uniform(1.4, 2.0) : rng.uniform(1.1, 1.3));
    const halfLength = r * (kind === 'flange' ? rng.uniform(0.25, 0.5) : rng.uniform(0.5, 1.0));
    paintBox(f, { cx: c.x, cy: c.y, ux: p.axis.x, uy: p.axis.y, halfLength, halfWidth }, (_s, t) => ambient + (temp - ambient) * (0.85 + 0.15 * Math.sqrt(Math.max(0, 1 - t * t))), mask);
    if (kind === 'flange') {
      const bolt = temp + (ambient - temp) * rng.uniform(0.1, 0.4);
      paintDisc(f, at(halfWidth * 0.78, n), Math.max(0.8, r * 0.18), bolt);
      paintDisc(f, at(-halfWidth * 0.78, n), Math.max(0.8, r * 0.18), bolt);
    }
    sources.push(at(halfWidth * 0.95, up), at(halfWidth * 0.95, { x: -up.x, y: -up.y }), at(halfWidth * 0.5, up, halfLength), at(halfWidth * 0.5, up, -halfLength));
  }
  return { kind, centre: c, fluid: p.fluid, radius: r, axis: p.axis, sources };
}

/** Builds a thermal scene of pipes and fittings at the frame's own size. */
export function buildScene(rng: Rng, width: number, height: number): Scene {
  const ambient = 0.3;
  const field = createField(width, height);
  const floorY = paintBackground(rng, field, ambient);
  const scene: Scene = { field, mask: new Uint8Array(width * height), fittings: [], ambient, contrast: 0, scale: Math.min(width, height), floorY };
  const pipes = Array.from({ length: rng.pick([1, 1, 2, 2, 3]) }, () => randomPipe(rng, width, height, ambient));
  for (const p of pipes) {
    const insulated = rng.chance(0.35);
    const surface = ambient + (p.fluid - ambient) * (insulated ? rng.uniform(0.05, 0.25) : rng.uniform(0.7, 0.95));
    paintBox(field, { cx: p.centre.x, cy: p.centre.y, ux: p.axis.x, uy: p.axis.y, halfLength: Math.hypot(width, height), halfWidth: p.radius },
      (_s, t) => ambient + (surface - ambient) * (0.8 + 0.2 * Math.sqrt(Math.max(0, 1 - t * t))), scene.mask);
    scene.contrast = Math.max(scene.contrast, Math.abs(p.fluid - ambient));
  }
  for (const p of pipes) {
    const count = rng.pick([1, 1, 2, 2, 3, 4]);
    for (let i = 0; i < count; i++) {
      const c = pointOnPipe(rng, p, width, height, 0.1);
      if (c) scene.fittings.push(paintFitting(rng, scene, p, c, rng.pick(['flange', 'flange', 'joint', 'valve'] as const)));
    }
  }
  if (scene.fittings.length === 0) {
    const p = pipes[0]!;
    scene.fittings.push(paintFitting(rng, scene, p, p.centre, 'flange'));
  }
  return scene;
}
