import { patternPng } from '../test/helpers/images.js';
import { predictForm } from '../test/helpers/multipart.js';

/** One pre-built POST /predict request: the multipart body is built once, before any timing. */
export interface Upload {
  /** `224x224` or `640x480`. */
  size: string;
  payload: Buffer;
  headers: Record<string, string>;
}

export type ImageSetName = '224' | 'mix';

export interface ImageSet {
  name: ImageSetName;
  description: string;
  uploads: Upload[];
}

function uploads(width: number, height: number, count: number, seed: number): Upload[] {
  const size = `${width}x${height}`;
  return Array.from({ length: count }, (_, i) => {
    const { payload, headers } = predictForm(patternPng(width, height, seed + i), `bench-${size}-${i}`);
    return { size, payload, headers: { ...headers, 'content-length': String(payload.length) } };
  });
}

/** `count` distinct 224×224 frames, and a 50/50 interleaved mix of 224×224 and 640×480 frames. */
export function buildImageSets(count: number): ImageSet[] {
  const small = uploads(224, 224, count, 1000);
  const large = uploads(640, 480, count, 2000);
  const mix = small.flatMap((s, i) => [s, large[i]!]);
  return [
    { name: '224', description: `${count} distinct 224×224 PNGs`, uploads: small },
    { name: 'mix', description: `${count} 224×224 + ${count} 640×480 PNGs, alternating`, uploads: mix },
  ];
}
