import { type PngColour, encodePng } from '../../src/synth/png-encode.js';

/** A solid-colour 8-bit RGB PNG, like the specification's `Image.new('RGB', size, colour)`. */
export function solidPng(width: number, height: number, rgb: readonly [number, number, number]): Buffer {
  const samples = new Uint8Array(width * height * 3);
  for (let i = 0; i < samples.length; i++) samples[i] = rgb[i % 3]!;
  return encodePng({ width, height, colour: { type: 'rgb', depth: 8 }, samples });
}

/** A deterministic, textured RGB PNG: different seeds give different images (and predictions). */
export function patternPng(width: number, height: number, seed: number, colour: PngColour = { type: 'rgb', depth: 8 }): Buffer {
  const channels = { gray: 1, 'gray-alpha': 2, rgb: 3, rgba: 4, palette: 1 }[colour.type];
  const max = colour.type === 'palette' ? colour.palette.length / 3 - 1 : colour.depth === 16 ? 65535 : (1 << colour.depth) - 1;
  const samples = new Array<number>(width * height * channels);
  let s = seed >>> 0 || 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const wave = (Math.sin((x * (c + 1) + y * seed) / 9) + 1) / 2;
        samples[(y * width + x) * channels + c] = Math.round(max * (0.8 * wave + 0.2 * (s / 2 ** 32)));
      }
    }
  }
  return encodePng({ width, height, colour, samples });
}
