import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { CSV_HEADER, writeDataset } from '../../src/synth/dataset.js';
import { addDistractors } from '../../src/synth/distractors.js';
import { createField } from '../../src/synth/field.js';
import { COLOUR_TYPES } from '../../src/synth/frame-encode.js';
import { addLeak, visibleFootprint } from '../../src/synth/leaks.js';
import { imageSeed, Rng } from '../../src/synth/prng.js';
import { generateSample, leakStrength, SIZES } from '../../src/synth/sample.js';
import { buildScene } from '../../src/synth/scene.js';
import { applySensor } from '../../src/synth/sensor.js';

// Period of the label × size × colour-type cycle: 50 images cover every combination.
const COUNT = 50;

async function withDataset(seed: number, count: number, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'leakwatch-synth-'));
  try {
    await writeDataset({ out: dir, count, seed });
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trim().split('\n');
  const keys = header!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [keys[i]!, v])));
}

test('the same seed gives byte-identical images, another seed different ones', () => {
  for (const index of [0, 3, 7]) {
    assert.ok(generateSample(11, index).png.equals(generateSample(11, index).png));
    assert.ok(!generateSample(11, index).png.equals(generateSample(12, index).png));
  }
});

test('writes the ImageFolder layout and a labels.csv that matches it, deterministically', async () => {
  await withDataset(5, COUNT, async (dir) => {
    const leak = (await readdir(join(dir, 'leak'))).sort();
    const normal = (await readdir(join(dir, 'normal'))).sort();
    assert.equal(leak.length, COUNT / 2);
    assert.equal(normal.length, COUNT / 2);
    const csv = await readFile(join(dir, 'labels.csv'), 'utf8');
    assert.equal(csv.split('\n')[0], CSV_HEADER);
    const rows = parseCsv(csv);
    assert.equal(rows.length, COUNT);
    for (const row of rows) {
      assert.equal(row.path!.split('/')[0], row.label);
      assert.equal(row.label === 'leak', row.leak_kind !== 'none');
    }
    await withDataset(5, 6, async (again) => {
      assert.deepEqual((await readFile(join(again, 'labels.csv'), 'utf8')).split('\n').slice(0, 7), csv.split('\n').slice(0, 7));
      for (const row of parseCsv(await readFile(join(again, 'labels.csv'), 'utf8'))) {
        assert.ok((await readFile(join(dir, row.path!))).equals(await readFile(join(again, row.path!))));
      }
    });
  });
});

test('every size and colour type appears, and every PNG decodes with sharp to its declared size', async () => {
  await withDataset(9, COUNT, async (dir) => {
    const rows = parseCsv(await readFile(join(dir, 'labels.csv'), 'utf8'));
    const sizes = new Set(rows.map((r) => `${r.width}x${r.height}`));
    assert.deepEqual([...sizes].sort(), SIZES.map(([w, h]) => `${w}x${h}`).sort());
    assert.deepEqual([...new Set(rows.map((r) => r.colour_type))].sort(), [...COLOUR_TYPES].sort());
    for (const row of rows) {
      const meta = await sharp(join(dir, row.path!)).metadata();
      assert.equal(meta.format, 'png');
      assert.equal(meta.width, Number(row.width));
      assert.equal(meta.height, Number(row.height));
      const expectedChannels = { rgb: 3, rgba: 4, gray: 1, gray16: 1, palette: meta.hasAlpha ? 4 : 3 }[row.colour_type!];
      assert.equal(meta.channels, expectedChannels, row.path);
      if (row.colour_type === 'gray16') assert.equal(meta.depth, 'ushort');
      const raw = await sharp(join(dir, row.path!)).raw().toBuffer({ resolveWithObject: true });
      assert.equal(raw.info.width * raw.info.height, Number(row.width) * Number(row.height));
    }
  });
});

test('a leak counts as visible only where the camera shows it: gain that clips it hides it', () => {
  const w = 40;
  const h = 30;
  const delta = createField(w, h);
  for (let y = 10; y < 14; y++) for (let x = 5; x < 25; x++) delta.data[y * w + x] = 2;
  const field = createField(w, h, 1);
  for (let i = 0; i < field.data.length; i++) field.data[i] = field.data[i]! + delta.data[i]!;
  const plain = { gain: 0.25, offset: 0, gamma: 1, vignette: 0 };
  assert.deepEqual(visibleFootprint(field, delta, plain), { area: 80 / (w * h), box: [5, 10, 25, 14] });
  // Background and leak both past the top of the display range: the frame is uniformly white.
  assert.deepEqual(visibleFootprint(field, delta, { ...plain, gain: 1 }), { area: 0, box: null });
});

test('a leak frame whose camera settings hide the leak is drawn again, so every Leak label has a leak to see', () => {
  // Image 4 of seed 3: its first frame's gain hides the puddle (nothing changes by a tenth of the display range).
  const [w, h] = SIZES[4 % SIZES.length]!;
  const rng = new Rng(imageSeed(3, 4));
  const scene = buildScene(rng, w, h);
  addDistractors(rng, scene);
  const { delta } = addLeak(rng, scene, leakStrength(rng));
  const first = visibleFootprint(scene.field, delta, applySensor(rng, scene.field).transfer);
  assert.ok(first.area < 0.004, `first frame shows ${first.area}`);
  const { meta } = generateSample(3, 4);
  assert.equal(meta.label, 'leak');
  const [x0, y0, x1, y1] = meta.leakBox!;
  assert.ok((x1 - x0) * (y1 - y0) >= 0.004 * w * h, `box ${JSON.stringify(meta.leakBox)}`);
  for (let index = 0; index < 40; index += 2) assert.notEqual(generateSample(3, index).meta.leakBox, null, `image ${index}`);
});
