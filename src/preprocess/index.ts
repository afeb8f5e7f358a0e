export type { RawImage, Rgb8Image, TensorSpec } from './types.js';
export { toRgb8 } from './to-rgb8.js';
export { resizeBilinear } from './resize-bilinear.js';
export { sampleLength, writeTensor } from './normalize.js';
export { preprocess } from './pipeline.js';
