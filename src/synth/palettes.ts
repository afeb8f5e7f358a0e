export type PaletteName = 'ironbow' | 'rainbow' | 'arctic' | 'white-hot' | 'black-hot';

type Stop = [number, number, number, number];

const STOPS: Record<PaletteName, Stop[]> = {
  'ironbow': [[0, 0, 0, 10], [0.15, 40, 0, 120], [0.35, 150, 10, 150], [0.55, 225, 75, 40], [0.75, 250, 165, 0], [0.9, 255, 230, 60], [1, 255, 255, 230]],
  'rainbow': [[0, 0, 0, 128], [0.15, 0, 0, 255], [0.4, 0, 255, 255], [0.6, 255, 255, 0], [0.85, 255, 0, 0], [1, 255, 255, 255]],
  'arctic': [[0, 0, 0, 30], [0.3, 0, 60, 180], [0.55, 40, 180, 255], [0.8, 255, 200, 40], [1, 255, 255, 255]],
  'white-hot': [[0, 0, 0, 0], [1, 255, 255, 255]],
  'black-hot': [[0, 255, 255, 255], [1, 0, 0, 0]],
};

const cache = new Map<PaletteName, Uint8Array>();

/** A 256-entry RGB lookup table (768 bytes, PLTE layout) for a thermal palette. */
export function paletteLut(name: PaletteName): Uint8Array {
  const hit = cache.get(name);
  if (hit) return hit;
  const stops = STOPS[name];
  const lut = new Uint8Array(768);
  for (let i = 0; i < 256; i++) {
    const v = i / 255;
    let k = 0;
    while (k < stops.length - 2 && v > stops[k + 1]![0]) k++;
    const [p0, r0, g0, b0] = stops[k]!;
    const [p1, r1, g1, b1] = stops[k + 1]!;
    const t = (v - p0) / (p1 - p0);
    lut[i * 3] = Math.round(r0 + (r1 - r0) * t);
    lut[i * 3 + 1] = Math.round(g0 + (g1 - g0) * t);
    lut[i * 3 + 2] = Math.round(b0 + (b1 - b0) * t);
  }
  cache.set(name, lut);
  return lut;
}
