import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { readOnnxFacts } from '../../src/inference/onnx-proto.js';
import { fixtureModel } from '../helpers/paths.js';

describe('readOnnxFacts', () => {
  it('reads metadata_props and the op that produces each output', () => {
    const facts = readOnnxFacts(readFileSync(fixtureModel('tiny-softmax2.onnx')));
    assert.deepEqual(JSON.parse(facts.metadata.labels!), ['Normal', 'Leak']);
    assert.deepEqual(JSON.parse(facts.metadata.mean!), [0.485, 0.456, 0.406]);
    assert.equal(Object.values(facts.outputProducers)[0], 'Softmax');
    assert.equal(Object.values(readOnnxFacts(readFileSync(fixtureModel('tiny-logits2.onnx'))).outputProducers)[0], 'Gemm');
  });

  it('reports no metadata for a model without any', () => {
    assert.deepEqual(readOnnxFacts(readFileSync(fixtureModel('tiny-nometa.onnx'))).metadata, {});
  });

  it('throws on truncated bytes instead of reading past the end', () => {
    const bytes = readFileSync(fixtureModel('tiny-logits2.onnx'));
    assert.throws(() => readOnnxFacts(bytes.subarray(0, bytes.length - 100)), RangeError);
  });
});
