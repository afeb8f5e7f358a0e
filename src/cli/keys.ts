import { type ApiKeyInfo, SCOPES, type Scope } from '../auth/key-store.js';
import type { Config } from '../config.js';
import { type Stores, openStores } from '../server.js';
import { fail } from './options.js';
import { oneLine } from './one-line.js';

async function withStores<T>(config: Config, use: (s: Stores) => Promise<T>): Promise<T> {
  let stores: Stores;
  try {
    stores = await openStores(config);
  } catch (err) {
    fail(oneLine(err, config));
  }
  try {
    return await use(stores);
  } finally {
    await stores.history.close();
  }
}

const shown = (k: ApiKeyInfo) => `${k.id} '${k.name}' (scope ${k.scope}, lw_${k.prefix}_…)`;

/** `leakwatch keys create`: prints the new key alone on stdout (once: only its hash is stored). */
export async function runKeysCreate(config: Config, name: string, scope: string): Promise<void> {
  if (!(SCOPES as readonly string[]).includes(scope)) fail(`--scope must be one of ${SCOPES.join(', ')} (got ${JSON.stringify(scope)})`);
  if (name.trim() === '' || name.length > 100) fail('--name must be 1 to 100 characters');
  await withStores(config, async ({ keys }) => {
    const first = !(await keys.required());
    const { key, info } = await keys.create(name.trim(), scope as Scope);
    process.stdout.write(`${key}\n`);
    process.stderr.write(`created key ${shown(info)}. It is shown only now: store it. Send it as "Authorization: Bearer <key>" or "X-API-Key: <key>".\n`);
    if (first) process.stderr.write('This is the first key: from now on /predict, /prediction_history, /sensors and /metrics require one.\n');
  });
}

export async function runKeysList(config: Config): Promise<void> {
  await withStores(config, async ({ keys }) => {
    const rows = await keys.list();
    if (rows.length === 0) {
      process.stderr.write('no keys: the API is open. Create one with `leakwatch keys create --name N --scope predict|read|admin`.\n');
      return;
    }
    const table = [['ID', 'NAME', 'SCOPE', 'KEY', 'CREATED', 'REVOKED'],
      ...rows.map((k) => [String(k.id), k.name, k.scope, `lw_${k.prefix}_…`, k.created_at, k.revoked_at ?? '-'])];
    const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
    process.stdout.write(table.map((r) => r.map((v, c) => v.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n') + '\n');
  });
}

export async function runKeysRevoke(config: Config, which: string): Promise<void> {
  await withStores(config, async ({ keys }) => {
    const revoked = await keys.revoke(which);
    if (!revoked) fail(`no key ${JSON.stringify(which)}; \`leakwatch keys list\` shows the ids`);
    process.stderr.write(revoked.already ? `key ${shown(revoked.info)} was already revoked\n` : `revoked key ${shown(revoked.info)}: it is refused from now on, on every instance\n`);
  });
}
