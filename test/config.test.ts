import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { ConfigError, OPTIONS, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({}, {});
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.port, 8000);
    assert.equal(c.modelPath, 'models/resnet18_binary_finetuned.onnx');
    assert.equal(c.databaseUrl, 'sqlite:data/predictions.db');
    assert.deepEqual([c.leakThreshold, c.severityLowThreshold, c.severityHighThreshold], [0.5, 0.5, 0.9]);
    assert.equal(c.maxUploadBytes, 10 * 1024 * 1024);
    assert.equal(c.maxImagePixels, 40_000_000);
    assert.equal(c.labels, 'Normal,Leak');
    assert.equal(c.inferenceThreads, availableParallelism());
    assert.equal(c.sqliteSynchronous, 'FULL');
    assert.ok(Object.isFrozen(c));
  });

  it('reads env vars, and CLI flags win over them', () => {
    const env = { PORT: '9000', LEAK_THRESHOLD: '0.7', SQLITE_SYNCHRONOUS: 'NORMAL', HOST: '127.0.0.1' };
    const c = loadConfig({ port: '9100' }, env);
    assert.equal(c.port, 9100);
    assert.equal(c.leakThreshold, 0.7);
    assert.equal(c.sqliteSynchronous, 'NORMAL');
    assert.equal(c.host, '127.0.0.1');
  });

  it('treats an empty env var as unset', () => {
    assert.equal(loadConfig({}, { PORT: '' }).port, 8000);
  });

  it('rejects bad values with one line naming the variable, the flag and what is expected', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ PORT: 'eighty' }, /^invalid PORT \(--port\) = "eighty": expected an integer ≥ 0 and ≤ 65535$/],
      [{ PORT: '70000' }, /PORT/],
      [{ PORT: '80.5' }, /PORT/],
      [{ LEAK_THRESHOLD: '1.5' }, /^invalid LEAK_THRESHOLD \(--leak-threshold\) = "1.5": expected a number ≥ 0 and ≤ 1$/],
      [{ SEVERITY_LOW_THRESHOLD: '-0.1' }, /SEVERITY_LOW_THRESHOLD/],
      [{ SEVERITY_HIGH_THRESHOLD: '1e0' }, /SEVERITY_HIGH_THRESHOLD/],
      [{ MAX_UPLOAD_BYTES: '10MB' }, /MAX_UPLOAD_BYTES/],
      [{ SQLITE_SYNCHRONOUS: 'OFF' }, /expected one of FULL, NORMAL/],
      [{ LABELS: 'OnlyOne' }, /LABELS/],
      [{ MEAN: '0.5,0.5' }, /MEAN .*three comma-separated numbers/],
      [{ STD: '0.2,0,0.2' }, /STD/],
      [{ SEVERITY_LOW_THRESHOLD: '0.95', SEVERITY_HIGH_THRESHOLD: '0.9' }, /SEVERITY_LOW_THRESHOLD \(0\.95\) must be ≤ SEVERITY_HIGH_THRESHOLD \(0\.9\)/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => loadConfig({}, env), (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      }, JSON.stringify(env));
    }
  });

  it('gives every option an env var, a flag, a default and a description', () => {
    for (const [key, { env, flag, schema }] of Object.entries(OPTIONS)) {
      assert.match(env, /^[A-Z][A-Z0-9_]+$/, key);
      assert.match(flag, /^--[a-z][a-z-]+$/, key);
      const s = schema as { default?: unknown; description?: string };
      assert.notEqual(s.default, undefined, key);
      assert.ok((s.description ?? '').length > 5, key);
    }
  });
});
