import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { parseKey } from '../../src/auth/key-store.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

it('leakwatch keys create prints the key once; list shows no secret; revoke by id or prefix', async (t) => {
  const env = { DATABASE_URL: `sqlite:${join(tempDir(t), 'p.db')}` };
  const empty = await runCli(['keys', 'list'], env);
  assert.equal(empty.code, 0);
  assert.match(empty.stderr, /no keys: the API is open/);

  const created = await runCli(['keys', 'create', '--name', 'line-3 gateway', '--scope', 'predict'], env);
  assert.equal(created.code, 0, created.stderr);
  const key = created.stdout.trim();
  assert.match(key, /^lw_[0-9a-f]{10}_[A-Za-z0-9_-]{43}$/);
  assert.match(created.stderr, /shown only now/);
  assert.match(created.stderr, /first key/);

  const second = await runCli(['keys', 'create', '--name', 'dash', '--scope', 'read'], env);
  assert.doesNotMatch(second.stderr, /first key/);

  const list = await runCli(['keys', 'list'], env);
  assert.match(list.stdout, /^ID\s+NAME\s+SCOPE\s+KEY\s+CREATED\s+REVOKED\n1\s+line-3 gateway\s+predict\s+lw_[0-9a-f]{10}_…/);
  const secret = parseKey(key)?.secret;
  assert.ok(secret, key);
  assert.ok(!list.stdout.includes(secret), 'the secret is never listed');

  const revoked = await runCli(['keys', 'revoke', key.slice(0, 13)], env);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.match(revoked.stderr, /revoked key 1 'line-3 gateway'/);
  assert.match((await runCli(['keys', 'revoke', '1'], env)).stderr, /already revoked/);
  const missing = await runCli(['keys', 'revoke', '42'], env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no key "42"/);

  const badScope = await runCli(['keys', 'create', '--name', 'x', '--scope', 'root'], env);
  assert.notEqual(badScope.code, 0);
  assert.match(badScope.stderr, /Allowed choices are predict, read, admin/);
});
