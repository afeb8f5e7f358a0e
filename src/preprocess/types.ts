/** A decoded image as the decoder hands it over: interleaved samples, grey or colour, 8 or 16 bits. */
export interface RawImage {
  /** Interleaved samples, row-major; `Uint8Array` for depth 8, `Uint16Array` for depth 16. */
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  /** 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA. */
  channels: 1 | 2 | 3 | 4;
  depth: 8 | 16;
}

/** An 8-bit RGB image: interleaved R, G, B, 3 bytes per pixel, row-major. */
export interface Rgb8Image {
  data: Uint8Array;
  width: number;
  height: number;
}

/** What the model expects as input: its size, memory layout and per-channel normalization. */
export interface TensorSpec {
  width: number;
  height: number;
  layout: 'NCHW' | 'NHWC';
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}
