import { encodePng, type PngColour } from './png-encode.js';
import { paletteLut, type PaletteName } from './palettes.js';
import type { Rng } from './prng.js';

export const COLOUR_TYPES = ['rgb', 'rgba', 'gray', 'palette', 'gray16'] as const;
export type ColourType = (typeof COLOUR_TYPES)[number];

/** Palettes a colour type may use: grey PNGs can only be white-hot or black-hot. */
export function palettesFor(type: ColourType): readonly PaletteName[] {
  return type === 'gray' || type === 'gray16'
    ? ['white-hot', 'black-hot']
    : ['ironbow', 'ironbow', 'ironbow', 'rainbow', 'rainbow', 'arctic', 'white-hot', 'black-hot'];
}

/** Encodes display values in [0, 1] as a PNG of the given colour type and palette. */
export function encodeFrame(rng: Rng, display: Float32Array, width: number, height: number,
  type: ColourType, paletteName: PaletteName, interlace: boolean): Buffer {
  const n = width * height;
  const lut = paletteLut(paletteName);
  const invert = paletteName === 'black-hot';
  let colour: PngColour;
  let samples: Uint8Array | Uint16Array;
  switch (type) {
    case 'gray16': {
      colour = { type: 'gray', depth: 16 };
      samples = new Uint16Array(n);
      for (let i = 0; i < n; i++) samples[i] = Math.round((invert ? 1 - display[i]! : display[i]!) * 65535);
      break;
    }
    case 'gray': {
      colour = { type: 'gray', depth: 8 };
      samples = new Uint8Array(n);
      for (let i = 0; i < n; i++) samples[i] = Math.round((invert ? 1 - display[i]! : display[i]!) * 255);
      break;
    }
    case 'palette': {
      const alpha = rng.chance(0.25) ? Uint8Array.from({ length: 256 }, (_, i) => (i < 32 ? 255 - i * 6 : 255)) : undefined;
      colour = alpha ? { type: 'palette', palette: lut, alpha } : { type: 'palette', palette: lut };
      samples = new Uint8Array(n);
      for (let i = 0; i < n; i++) samples[i] = Math.round(display[i]! * 255);
      break;
    }
    case 'rgb':
    case 'rgba': {
      const ch = type === 'rgb' ? 3 : 4;
      colour = { type, depth: 8 };
      samples = new Uint8Array(n * ch);
      const alphaMode = type === 'rgba' ? rng.pick(['opaque', 'opaque', 'radial', 'noise'] as const) : 'opaque';
      for (let i = 0; i < n; i++) {
        // Interpolate between LUT entries so RGB frames are not quantised to 256 colours.
        const f = display[i]! * 255;
        const k = Math.min(254, Math.floor(f));
        const t = f - k;
        for (let c = 0; c < 3; c++) {
          samples[i * ch + c] = Math.round(lut[k * 3 + c]! + (lut[(k + 1) * 3 + c]! - lut[k * 3 + c]!) * t);
        }
        if (ch === 4) {
          const x = i % width;
          const y = (i - x) / width;
          samples[i * 4 + 3] = alphaMode === 'opaque' ? 255
            : alphaMode === 'radial' ? Math.round(255 - 200 * Math.min(1, Math.hypot(x / width - 0.5, y / height - 0.5) * 1.4))
              : rng.int(0, 256);
        }
      }
      break;
    }
  }
  return encodePng({ width, height, colour, samples, interlace });
}
