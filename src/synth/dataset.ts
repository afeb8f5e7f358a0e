import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSample, type SampleMeta } from './sample.js';

export interface DatasetOptions {
  out: string;
  count: number;
  seed: number;
  /** Index of the first image, so a dataset can be written in parts. */
  start?: number;
  onProgress?: (done: number) => void;
}

export const CSV_HEADER = 'path,label,width,height,colour_type,palette,interlace,leak_kind,leak_strength,leak_x0,leak_y0,leak_x1,leak_y1,effects,seed';

export function csvRow(path: string, m: SampleMeta): string {
  return [path, m.label, m.width, m.height, m.colourType, m.palette, m.interlace ? 1 : 0,
    m.leakKind, m.leakStrength, ...(m.leakBox ?? ['', '', '', '']), m.effects.join('+'), m.seed].join(',');
}

export function imagePath(m: SampleMeta, index: number): string {
  return `${m.label}/${String(index).padStart(6, '0')}.png`;
}

/** Writes `out/leak/*.png`, `out/normal/*.png` (ImageFolder layout) and `out/labels.csv`. */
export async function writeDataset(opts: DatasetOptions): Promise<void> {
  await mkdir(join(opts.out, 'leak'), { recursive: true });
  await mkdir(join(opts.out, 'normal'), { recursive: true });
  const start = opts.start ?? 0;
  const rows = [CSV_HEADER];
  for (let i = start; i < start + opts.count; i++) {
    const { png, meta } = generateSample(opts.seed, i);
    const path = imagePath(meta, i);
    await writeFile(join(opts.out, path), png);
    rows.push(csvRow(path, meta));
    opts.onProgress?.(i - start + 1);
  }
  await writeFile(join(opts.out, 'labels.csv'), rows.join('\n') + '\n');
}
