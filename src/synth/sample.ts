import { addDistractors } from './distractors.js';
import { COLOUR_TYPES, encodeFrame, palettesFor, type ColourType } from './frame-encode.js';
import { addLeak, MIN_LEAK_AREA, visibleFootprint, type Box, type LeakKind } from './leaks.js';
import type { PaletteName } from './palettes.js';
import { imageSeed, Rng } from './prng.js';
import { buildScene } from './scene.js';
import { applySensor } from './sensor.js';

export const SIZES = [[160, 120], [224, 224], [320, 240], [640, 480], [640, 512]] as const;

export type Label = 'leak' | 'normal';

export interface SampleMeta {
  label: Label;
  width: number;
  height: number;
  colourType: ColourType;
  palette: PaletteName;
  interlace: boolean;
  leakKind: LeakKind | 'none';
  /** 0 for normal frames. */
  leakStrength: number;
  /** Bounding box [x0, y0, x1, y1) of the pixels the leak visibly changes; null for normal frames. */
  leakBox: Box | null;
  /** Hard negatives and sensor effects present, e.g. `hotspot+vignette`. */
  effects: string[];
  /** The per-image seed: the image depends on nothing else. */
  seed: number;
}

export interface Sample {
  png: Buffer;
  meta: SampleMeta;
}

/** Leak strength: a fifth are faint, so the classifier's confidence has to spread. */
export function leakStrength(rng: Rng): number {
  return rng.chance(0.2) ? rng.uniform(0.2, 0.35) : rng.uniform(0.35, 1);
}

/** Frames drawn at most for one leak image; a camera setting hides a leak in about 1 frame in 30. */
const MAX_FRAMES = 32;

/**
 * The `index`-th image of the dataset with seed `seed`. Label, size and colour type cycle with
 * the index (period 50 covers every label × size × colour type); everything else is random.
 * A leak frame whose leak the camera does not show (gain clipping it, a saturated background) is
 * drawn again from the same stream: a Leak label always has a leak to see.
 */
export function generateSample(seed: number, index: number): Sample {
  const label: Label = index % 2 === 0 ? 'leak' : 'normal';
  const [width, height] = SIZES[index % SIZES.length]!;
  const colourType = COLOUR_TYPES[Math.floor(index / SIZES.length) % COLOUR_TYPES.length]!;
  const sampleSeed = imageSeed(seed, index);
  const rng = new Rng(sampleSeed);
  for (let frame = 1; ; frame++) {
    const scene = buildScene(rng, width, height);
    const effects = addDistractors(rng, scene);
    const added = label === 'leak' ? addLeak(rng, scene, leakStrength(rng)) : null;
    const sensor = applySensor(rng, scene.field);
    const seen = added ? visibleFootprint(scene.field, added.delta, sensor.transfer) : null;
    if (seen && seen.area < MIN_LEAK_AREA && frame < MAX_FRAMES) continue;
    const leak = added?.leak;
    const palette = rng.pick(palettesFor(colourType));
    const interlace = rng.chance(0.05);
    const png = encodeFrame(rng, sensor.display, width, height, colourType, palette, interlace);
    return {
      png,
      meta: {
        label, width, height, colourType, palette, interlace,
        leakKind: leak?.kind ?? 'none',
        leakStrength: leak ? Math.round(leak.strength * 1000) / 1000 : 0,
        leakBox: seen?.box ?? null,
        effects: [...effects, ...sensor.effects],
        seed: sampleSeed,
      },
    };
  }
}
