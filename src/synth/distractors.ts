import { addGaussian, paintBox, smoothstep, type Point } from './field.js';
import type { Rng } from './prng.js';
import type { Scene } from './scene.js';

/** True when no equipment pixel lies within `r` of `c` (sampled on a coarse grid). */
function clearOfEquipment(scene: Scene, c: Point, r: number): boolean {
  const { width: w, height: h } = scene.field;
  const step = Math.max(1, r / 4);
  for (let y = c.y - r; y <= c.y + r; y += step) {
    for (let x = c.x - r; x <= c.x + r; x += step) {
      const xi = Math.floor(x);
      const yi = Math.floor(y);
      if (xi >= 0 && yi >= 0 && xi < w && yi < h && scene.mask[yi * w + xi]) return false;
    }
  }
  return true;
}

function hotSpot(rng: Rng, scene: Scene): void {
  const { width: w, height: h } = scene.field;
  const r = scene.scale * rng.uniform(0.02, 0.08);
  for (let tries = 0; tries < 20; tries++) {
    const c = { x: rng.uniform(0, w), y: rng.uniform(0, h) };
    if (!clearOfEquipment(scene, c, r * 2.5)) continue;
    const amp = scene.contrast * rng.uniform(0.15, 0.9) * (rng.chance(0.8) ? 1 : -1);
    if (rng.chance(0.6)) {
      addGaussian(scene.field, c, r, r * rng.uniform(0.5, 1), rng.uniform(0, Math.PI), amp);
    } else {
      // Lamps, motors and panels: warm, hard-edged objects with no equipment attached.
      const t = scene.ambient + amp;
      const angle = rng.uniform(-0.2, 0.2);
      paintBox(scene.field, { cx: c.x, cy: c.y, ux: Math.cos(angle), uy: Math.sin(angle), halfLength: r * rng.uniform(0.8, 1.8), halfWidth: r * rng.uniform(0.5, 1) },
        (_s, tt) => t - 0.2 * amp * tt * tt);
    }
    return;
  }
}

function reflection(rng: Rng, scene: Scene): void {
  const { field, scale } = scene;
  const kind = rng.next();
  if (kind < 0.4) {
    // Specular glint running along a pipe.
    const fit = rng.pick(scene.fittings);
    const off = fit.radius * rng.uniform(-0.5, 0.5);
    const along = scale * rng.uniform(-0.3, 0.3);
    const c = { x: fit.centre.x + fit.axis.x * along - fit.axis.y * off, y: fit.centre.y + fit.axis.y * along + fit.axis.x * off };
    addGaussian(field, c, scale * rng.uniform(0.05, 0.2), Math.max(0.6, fit.radius * 0.2), Math.atan2(fit.axis.y, fit.axis.x), scene.contrast * rng.uniform(0.1, 0.45));
  } else if (kind < 0.7 && scene.floorY !== null) {
    // Mirror image of warm equipment on a glossy floor: long, flat and detached.
    const c = { x: rng.uniform(0.1, 0.9) * field.width, y: scene.floorY + rng.uniform(0.02, 0.1) * field.height };
    addGaussian(field, c, scale * rng.uniform(0.15, 0.4), scale * rng.uniform(0.01, 0.03), rng.uniform(-0.05, 0.05), scene.contrast * rng.uniform(0.1, 0.35));
  } else {
    // Window or sky reflected on a wall panel: a soft bright patch.
    const c = { x: rng.uniform(0, field.width), y: rng.uniform(0, field.height) };
    const angle = rng.uniform(-0.5, 0.5);
    const amp = scene.contrast * rng.uniform(0.08, 0.3) * (rng.chance(0.7) ? 1 : -1);
    const half = scale * rng.uniform(0.06, 0.2);
    paintBox(field, { cx: c.x, cy: c.y, ux: Math.cos(angle), uy: Math.sin(angle), halfLength: half, halfWidth: half * rng.uniform(0.4, 1) },
      (_s, t) => field.data[Math.floor(c.y) * field.width + Math.floor(Math.max(0, Math.min(field.width - 1, c.x)))]! + amp * (1 - smoothstep(0.6, 1, Math.abs(t))));
  }
}

/**
 * Adds the hard negatives: hot spots away from equipment and reflections. They appear at the
 * same rate in both classes, so only the leak itself tells the classes apart.
 */
export function addDistractors(rng: Rng, scene: Scene): string[] {
  const added: string[] = [];
  if (rng.chance(0.45)) {
    const n = rng.int(1, 4);
    for (let i = 0; i < n; i++) hotSpot(rng, scene);
    added.push('hotspot');
  }
  if (rng.chance(0.4)) {
    const n = rng.int(1, 3);
    for (let i = 0; i < n; i++) reflection(rng, scene);
    added.push('reflection');
  }
  return added;
}
