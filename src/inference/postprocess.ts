/** How a model's output encodes the class scores. */
export type OutputKind =
  /** [N,2] raw scores: softmax applies. */
  | 'logits2'
  /** [N,2] probabilities: the graph ends in Softmax. */
  | 'probs2'
  /** [N,1] raw score of the leak class: sigmoid applies. */
  | 'logit1'
  /** [N,1] probability of the leak class: the graph ends in Sigmoid. */
  | 'prob1';

export const outputWidth = (kind: OutputKind): 1 | 2 => (kind === 'logits2' || kind === 'probs2' ? 2 : 1);

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** Numerically stable softmax of a pair. */
export function softmax2(a: number, b: number): [number, number] {
  const m = Math.max(a, b);
  const ea = Math.exp(a - m);
  const eb = Math.exp(b - m);
  return [ea / (ea + eb), eb / (ea + eb)];
}

/**
 * Turns one batch's raw output into [p(class 0), p(class 1)] per image.
 * Class 1 is the leak class.
 */
export function toProbabilities(output: ArrayLike<number>, batch: number, kind: OutputKind): [number, number][] {
  const width = outputWidth(kind);
  if (output.length !== batch * width) {
    throw new RangeError(`model output has ${output.length} values, expected ${batch}×${width}`);
  }
  const result: [number, number][] = [];
  for (let i = 0; i < batch; i++) {
    let pair: [number, number];
    if (kind === 'logits2') pair = softmax2(output[2 * i]!, output[2 * i + 1]!);
    else if (kind === 'probs2') pair = [output[2 * i]!, output[2 * i + 1]!];
    else {
      const p = kind === 'logit1' ? sigmoid(output[i]!) : output[i]!;
      pair = [1 - p, p];
    }
    if (!pair.every((p) => Number.isFinite(p) && p >= 0 && p <= 1)) {
      throw new RangeError(`model produced an invalid probability for image ${i}: ${pair.join(', ')}`);
    }
    result.push(pair);
  }
  return result;
}
