import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide } from '../../src/policy/severity.js';

const T = { leak: 0.5, severityLow: 0.5, severityHigh: 0.9 };

describe('decide', () => {
  it('calls a Leak at p(leak) ≥ the leak threshold, with the leak probability as confidence', () => {
    assert.deepEqual(decide([0.5, 0.5], T), { isLeak: true, confidence: 0.5, severity: 'low' });
    assert.deepEqual(decide([0.2, 0.8], T), { isLeak: true, confidence: 0.8, severity: 'low' });
  });
  it('grades a Leak high at or above the high threshold', () => {
    assert.equal(decide([0.1, 0.9], T).severity, 'high');
    assert.equal(decide([0.0, 1.0], T).severity, 'high');
    assert.equal(decide([0.1000001, 0.8999999], T).severity, 'low');
  });
  it('grades a Leak below the low threshold as none', () => {
    const t = { leak: 0.3, severityLow: 0.6, severityHigh: 0.9 };
    assert.deepEqual(decide([0.6, 0.4], t), { isLeak: true, confidence: 0.4, severity: 'none' });
    assert.equal(decide([0.4, 0.6], t).severity, 'low');
  });
  it('makes every Normal severity none, with p(normal) as confidence', () => {
    assert.deepEqual(decide([0.9999, 0.0001], T), { isLeak: false, confidence: 0.9999, severity: 'none' });
    assert.deepEqual(decide([0.5000001, 0.4999999], T), { isLeak: false, confidence: 0.5000001, severity: 'none' });
  });
  it('keeps confidence at full precision', () => {
    assert.equal(decide([1e-12, 1 - 1e-12], T).confidence, 1 - 1e-12);
    assert.equal(decide([0.123456789012, 0.876543210988], T).confidence, 0.876543210988);
  });
  it('honours a leak threshold of 0 and 1 at the edges', () => {
    assert.equal(decide([1, 0], { ...T, leak: 0 }).isLeak, true);
    assert.equal(decide([0.0000001, 0.9999999], { ...T, leak: 1 }).isLeak, false);
    assert.equal(decide([0, 1], { ...T, leak: 1 }).isLeak, true);
  });
});
