/** Fixed-point precision of Pillow's 8-bit resampler: 32 - 8 - 2 bits. */
export const PRECISION_BITS = 22;

/** Resampling weights for one axis, in Pillow's 8-bit fixed point. Shared: never mutate. */
export interface AxisCoefficients {
  /** Maximum taps per output sample; the stride of `weights`. */
  ksize: number;
  /** First input index read by each output sample. */
  start: Int32Array;
  /** Number of input samples read by each output sample. */
  count: Int32Array;
  /** `ksize` weights per output sample, scaled by 2^22 and rounded half away from zero. */
  weights: Int32Array;
}

const CACHE_LIMIT = 16;
const cache = new Map<string, AxisCoefficients>();

function bilinearFilter(x: number): number {
  if (x < 0) x = -x;
  return x < 1 ? 1 - x : 0;
}

/**
 * Pillow's `precompute_coeffs` followed by `normalize_coeffs_8bpc` (libImaging/Resample.c) for
 * the BILINEAR filter, resampling the whole axis of `inSize` samples to `outSize`.
 * Results are memoized in a small LRU map.
 */
export function bilinearCoefficients(inSize: number, outSize: number): AxisCoefficients {
  const key = `${inSize}:${outSize}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const coeffs = compute(inSize, outSize);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, coeffs);
  return coeffs;
}

function compute(inSize: number, outSize: number): AxisCoefficients {
  // Pillow takes the source extent from a float box: (double)(in1 - in0) / outSize.
  const scale = Math.fround(inSize) / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = 1.0 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const ss = 1.0 / filterscale;

  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const unit = 1 << PRECISION_BITS;

  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C casts to int, truncating toward zero, before clamping.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;

    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      const w = bilinearFilter((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    const base = xx * ksize;
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x]! / ww : k[x]!;
      weights[base + x] = w < 0 ? Math.trunc(-0.5 + w * unit) : Math.trunc(0.5 + w * unit);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { ksize, start, count, weights };
}
