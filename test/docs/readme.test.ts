import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OPTIONS, type OptionKey, optionDefault, optionDescription } from '../../src/config.js';
import { Errors } from '../../src/errors.js';
import { ROOT } from '../helpers/paths.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('documents every configuration option with its flag, default and meaning', () => {
    for (const key of Object.keys(OPTIONS) as OptionKey[]) {
      const { env, flag } = OPTIONS[key];
      const value = String(optionDefault(key));
      const def = key === 'inferenceThreads' ? 'the number of cores' : value === '' ? '(empty)' : `\`${value}\``;
      const row = `| \`${env}\` | \`${flag}\` | ${def} | ${optionDescription(key)} |`;
      assert.ok(readme.includes(row), `README lacks the row:\n${row}`);
    }
  });

  it('documents every error code of the catalogue', () => {
    for (const make of Object.values(Errors)) {
      const { code } = (make as (...a: unknown[]) => { code: string })('x', 'x', 1);
      assert.ok(readme.includes(`\`${code}\``), code);
    }
  });

  it('gives the two set-up commands', () => {
    assert.match(readme, /npm ci && npm start/);
    assert.match(readme, /^npm test\b/m);
  });
});
