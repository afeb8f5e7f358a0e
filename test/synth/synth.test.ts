import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { CSV_HEADER, writeDataset } from '../../src/synth/dataset.js';
import { COLOUR_TYPES } from '../../src/synth/frame-encode.js';
import { generateSample, SIZES } from '../../src/synth/sample.js';

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
