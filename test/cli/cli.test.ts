import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OPTIONS, type OptionKey, optionDefault } from '../../src/config.js';
import { runCli } from '../helpers/cli.js';
import { patternPng, solidPng } from '../helpers/images.js';
import { DEFAULT_MODEL, fixtureModel } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp-dir.js';

/** A start-up failure: non-zero exit and exactly one line on stderr. */
function assertOneLineFailure(result: { code: number | null; stderr: string }, ...patterns: RegExp[]) {
  assert.notEqual(result.code, 0);
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('npm warn'));
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, /^leakwatch: /);
  for (const p of patterns) assert.match(lines[0]!, p);
}

describe('leakwatch serve: start-up', () => {
  it('exits non-zero with one line naming the path and the fix when the model is missing', async (t) => {
    const dir = tempDir(t);
    const result = await runCli(['serve'], { MODEL_PATH: join(dir, 'missing.onnx'), DATABASE_URL: `sqlite:${join(dir, 'p.db')}`, PORT: '0' });
    assertOneLineFailure(result, /missing\.onnx/, /file not found/, /MODEL_PATH/);
  });

  it('exits with one line when the model is not an ONNX file or cannot be served', async (t) => {
    const dir = tempDir(t);
    const notOnnx = join(dir, 'model.onnx');
    writeFileSync(notOnnx, 'this is not a model');
    assertOneLineFailure(await runCli(['serve'], { MODEL_PATH: notOnnx, DATABASE_URL: `sqlite:${join(dir, 'p.db')}`, PORT: '0' }), /not a valid ONNX model/);
    assertOneLineFailure(
      await runCli(['serve', '--model-path', fixtureModel('tiny-bad-output.onnx')], { DATABASE_URL: `sqlite:${join(dir, 'p.db')}`, PORT: '0' }),
      /cannot serve model .*tiny-bad-output\.onnx/,
    );
  });

  it('validates thresholds from env vars and flags, in one line', async () => {
    assertOneLineFailure(await runCli(['serve'], { SEVERITY_LOW_THRESHOLD: '0.95' }), /SEVERITY_LOW_THRESHOLD \(0\.95\) must be ≤ SEVERITY_HIGH_THRESHOLD \(0\.9\)/);
    assertOneLineFailure(await runCli(['serve', '--leak-threshold', '2']), /LEAK_THRESHOLD \(--leak-threshold\)/);
    assertOneLineFailure(await runCli(['serve', '--severity-high-threshold', 'high']), /SEVERITY_HIGH_THRESHOLD/);
  });

  it('says so in one line when the port is taken', async (t) => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    t.after(() => blocker.close());
    const port = (blocker.address() as { port: number }).port;
    const dir = tempDir(t);
    const result = await runCli(['serve'], { HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: `sqlite:${join(dir, 'p.db')}` });
    assertOneLineFailure(result, new RegExp(`port ${port} .*already in use`));
  });

  it('says so in one line when the database cannot be opened', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'file'), '');
    const result = await runCli(['serve'], { PORT: '0', DATABASE_URL: `sqlite:${join(dir, 'file', 'p.db')}` });
    assertOneLineFailure(result);
  });

  it('serve --help lists every option with its env var and default', async () => {
    const result = await runCli(['serve', '--help']);
    assert.equal(result.code, 0);
    const help = result.stdout.replace(/\s+/g, ' ');
    for (const [key, { env, flag }] of Object.entries(OPTIONS)) {
      assert.ok(help.includes(`${flag} <value>`), flag);
      assert.ok(help.includes(`(env: ${env}, default: ${String(optionDefault(key as OptionKey))})`), env);
    }
  });
});

describe('leakwatch predict', () => {
  it('takes thousands of file arguments (a long command line once crashed the inference worker)', async (t) => {
    const dir = tempDir(t);
    const real = join(dir, 'real.png');
    writeFileSync(real, patternPng(32, 32, 1));
    // About 100 kB of arguments, as `leakwatch predict site/frames/*.png` gives.
    const missing = Array.from({ length: 2500 }, (_, i) => join(dir, `frames-from-line-3-camera-${String(i).padStart(5, '0')}.png`));
    const result = await runCli(['predict', real, ...missing], { MODEL_PATH: DEFAULT_MODEL });
    assert.equal(result.signal, null, result.stderr);
    assert.equal(result.code, 1, 'missing files are errors');
    const lines = result.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { file: string; prediction?: string; error?: { code: string } });
    assert.equal(lines.length, 2501);
    assert.ok(lines[0]!.prediction);
    assert.equal(lines[2500]!.error?.code, 'unreadable_file');
  });

  it('prints one JSON line per file, in order, and exits 1 when any file fails', async (t) => {
    const dir = tempDir(t);
    const files = ['a.png', 'b.png', 'c.txt', 'd.png'].map((f) => join(dir, f));
    writeFileSync(files[0]!, solidPng(224, 224, [0, 0, 255]));
    writeFileSync(files[1]!, patternPng(320, 240, 4));
    writeFileSync(files[2]!, 'not an image');
    writeFileSync(files[3]!, patternPng(64, 64, 9, { type: 'gray', depth: 16 }));
    const result = await runCli(['predict', ...files, join(dir, 'missing.png')]);
    assert.equal(result.code, 1, result.stderr);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => l.file), [...files, join(dir, 'missing.png')]);
    for (const i of [0, 1, 3]) {
      assert.ok(['Leak', 'Normal'].includes(String(lines[i]!.prediction)));
      assert.equal(typeof lines[i]!.confidence, 'number');
      assert.ok(['none', 'low', 'high'].includes(String(lines[i]!.severity)));
    }
    assert.deepEqual(lines[2]!.error, { code: 'unsupported_image_type', message: 'The uploaded file is not a PNG image (its bytes do not start with the PNG signature).' });
    assert.equal((lines[4]!.error as { code: string }).code, 'unreadable_file');
  });

  it('refuses devices, FIFOs and files over MAX_UPLOAD_BYTES without reading them', async (t) => {
    const dir = tempDir(t);
    // A FIFO nobody writes to: opening it for reading would block for ever.
    const fifo = join(dir, 'camera.fifo');
    execFileSync('mkfifo', [fifo]);
    const big = join(dir, 'big.png');
    writeFileSync(big, Buffer.concat([patternPng(16, 16, 3), Buffer.alloc(2048)]));
    const small = join(dir, 'small.png');
    writeFileSync(small, solidPng(8, 8, [0, 0, 255]));
    const subdir = join(dir, 'frames');
    mkdirSync(subdir);
    // A regular file whose stat size (0) is not its length: the limit must hold while reading, not only from fstat.
    const growing = '/proc/self/maps';
    const files = ['/dev/zero', fifo, big, growing, small, subdir];
    const result = await runCli(['predict', ...files], { MODEL_PATH: DEFAULT_MODEL, MAX_UPLOAD_BYTES: '1024' }, { timeoutMs: 60_000 });
    assert.equal(result.signal, null, 'predict finished by itself');
    assert.equal(result.code, 1, result.stderr);
    const lines = result.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { file: string; prediction?: string; error?: { code: string; message: string } });
    assert.deepEqual(lines.map((l) => l.file), files);
    assert.deepEqual(lines[0]!.error, { code: 'unreadable_file', message: 'cannot read /dev/zero (not a regular file)' });
    assert.deepEqual(lines[1]!.error, { code: 'unreadable_file', message: `cannot read ${fifo} (not a regular file)` });
    const tooLarge = { code: 'upload_too_large', message: 'The upload exceeds the limit of 1024 bytes.' };
    assert.deepEqual(lines[2]!.error, tooLarge);
    assert.deepEqual(lines[3]!.error, tooLarge);
    assert.ok(['Leak', 'Normal'].includes(String(lines[4]!.prediction)), 'a file under the limit is classified');
    assert.deepEqual(lines[5]!.error, { code: 'unreadable_file', message: `cannot read ${subdir} (EISDIR)` }, 'directories as before');
    // The flag sets the same limit as the env var.
    const flag = await runCli(['predict', '--max-upload-bytes', '1024', big], { MODEL_PATH: DEFAULT_MODEL }, { timeoutMs: 60_000 });
    assert.equal(flag.code, 1, flag.stderr);
    assert.deepEqual((JSON.parse(flag.stdout) as { error: unknown }).error, tooLarge);
  });

  it('agrees with itself across runs and records nothing', async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'x.png');
    writeFileSync(file, patternPng(224, 224, 42));
    const a = await runCli(['predict', file], { DATABASE_URL: `sqlite:${join(dir, 'never.db')}` });
    const b = await runCli(['predict', '--leak-threshold', '0.5', file]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
  });
});

describe('leakwatch model', () => {
  it('prints what the service reads from the default model', async () => {
    const { stdout, code } = await runCli(['model']);
    assert.equal(code, 0);
    const info = JSON.parse(stdout) as Record<string, unknown>;
    assert.equal(info.path, DEFAULT_MODEL);
    assert.match(String(info.sha256), /^[0-9a-f]{64}$/);
    assert.deepEqual(info.labels, ['Normal', 'Leak']);
    assert.deepEqual((info.input as Record<string, unknown>).layout, 'NCHW');
  });

  it('reads another model given as an argument, including NHWC and fallbacks', async () => {
    const { stdout, code } = await runCli(['model', fixtureModel('tiny-nometa.onnx'), '--labels', 'ok,leaking']);
    assert.equal(code, 0);
    const info = JSON.parse(stdout) as { input: Record<string, unknown>; labels: string[]; source: Record<string, string> };
    assert.deepEqual(info.input, { name: 'input', layout: 'NCHW', height: 64, width: 48, batch: 'dynamic' });
    assert.deepEqual(info.labels, ['ok', 'leaking']);
    assert.deepEqual(info.source, { labels: 'config', normalization: 'config' });
    const nhwc = JSON.parse((await runCli(['model', fixtureModel('tiny-nhwc.onnx')])).stdout) as { input: { layout: string } };
    assert.equal(nhwc.input.layout, 'NHWC');
  });
});
