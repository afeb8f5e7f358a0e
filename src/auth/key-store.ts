import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/dialect.js';

export const SCOPES = ['predict', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** What a scope allows: admin allows everything. */
export const allows = (held: Scope, needed: Scope): boolean => held === 'admin' || held === needed;

export interface ApiKeyInfo {
  id: number;
  name: string;
  scope: Scope;
  /** The public part of the key: `lw_<prefix>_…`. */
  prefix: string;
  created_at: string;
  revoked_at: string | null;
}

export interface KeyStore {
  /** Creates a key; the returned secret is shown once and never stored. */
  create(name: string, scope: Scope): Promise<{ key: string; info: ApiKeyInfo }>;
  list(): Promise<ApiKeyInfo[]>;
  /** Revokes by id or prefix; returns the key (and whether it already was), or null when there is none. */
  revoke(idOrPrefix: string): Promise<{ info: ApiKeyInfo; already: boolean } | null>;
  /** The live key a presented secret belongs to, or null. Reads the store every time, so a revocation counts at once. */
  verify(presented: string): Promise<ApiKeyInfo | null>;
  /** True once any key has been created (revoked ones included): from then on, keys are required. */
  required(): Promise<boolean>;
}

// lw_ + 10 hex digits of public prefix + _ + 43 base64url characters (32 random bytes).
const KEY_FORMAT = /^lw_([0-9a-f]{10})_([A-Za-z0-9_-]{43})$/;

/** A key's public prefix and secret part, or null when it is not a key (the secret may hold `_`). */
export function parseKey(key: string): { prefix: string; secret: string } | null {
  const m = KEY_FORMAT.exec(key);
  return m ? { prefix: m[1]!, secret: m[2]! } : null;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

function toInfo(row: { id: number; name: string; scope: string; prefix: string; created_at: string; revoked_at: string | null }): ApiKeyInfo {
  return { id: row.id, name: row.name, scope: row.scope as Scope, prefix: row.prefix, created_at: row.created_at, revoked_at: row.revoked_at };
}

export function createKeyStore(store: Store): KeyStore {
  const { db } = store;
  // Keys are never deleted, so once required, always required: that answer can be kept.
  let requiredSeen = false;
  const anyKey = db.selectFrom('api_keys').select('id').limit(1).compile();
  const columns = ['id', 'name', 'scope', 'prefix', 'created_at', 'revoked_at'] as const;

  return {
    async create(name, scope) {
      const prefix = randomBytes(5).toString('hex');
      const key = `lw_${prefix}_${randomBytes(32).toString('base64url')}`;
      const row = { name, scope, prefix, hash: sha256(key).toString('hex'), created_at: new Date().toISOString(), revoked_at: null };
      const { sql, parameters } = db.insertInto('api_keys').values(row).returning(columns).compile();
      const [rows] = await store.writeBatch([{ sql, parameters }]);
      return { key, info: toInfo((rows as ApiKeyInfo[])[0]!) };
    },
    async list() {
      return (await db.selectFrom('api_keys').select(columns).orderBy('id').execute()).map(toInfo);
    },
    async revoke(idOrPrefix) {
      // Ids are short; a 10-digit string is a prefix that happens to be all digits.
      const byId = /^\d{1,9}$/.test(idOrPrefix);
      const keys = db.selectFrom('api_keys').select(columns);
      const match = byId ? keys.where('id', '=', Number(idOrPrefix)) : keys.where('prefix', '=', idOrPrefix.replace(/^lw_/, '').slice(0, 10));
      const found = await match.executeTakeFirst();
      if (!found) return null;
      if (found.revoked_at !== null) return { info: toInfo(found), already: true };
      const { sql, parameters } = db.updateTable('api_keys').set({ revoked_at: new Date().toISOString() })
        .where('id', '=', found.id).returning(columns).compile();
      const [rows] = await store.writeBatch([{ sql, parameters }]);
      return { info: toInfo((rows as ApiKeyInfo[])[0]!), already: false };
    },
    async verify(presented) {
      const parsed = parseKey(presented);
      if (!parsed) return null;
      const row = await db.selectFrom('api_keys').select([...columns, 'hash']).where('prefix', '=', parsed.prefix).executeTakeFirst();
      if (!row) return null;
      const stored = Buffer.from(row.hash, 'hex');
      const given = sha256(presented);
      // Constant time: how much of the key matched never shows in the time taken.
      if (stored.length !== given.length || !timingSafeEqual(stored, given) || row.revoked_at !== null) return null;
      return toInfo(row);
    },
    async required() {
      if (requiredSeen) return true;
      // Asked by every request while no key exists: the query is built and compiled once.
      requiredSeen = (await db.executeQuery(anyKey)).rows.length > 0;
      return requiredSeen;
    },
  };
}
