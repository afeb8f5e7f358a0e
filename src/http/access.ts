import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ApiKeyInfo, type KeyStore, type Scope, allows } from '../auth/key-store.js';
import { ApiError, Errors } from '../errors.js';
import { createRateLimiter } from './rate-limiter.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The API key scope the route needs; routes without one are open. */
    scope?: Scope;
    /** Probes: never rate-limited. */
    unlimited?: boolean;
  }
  interface FastifyRequest {
    apiKey: ApiKeyInfo | null;
  }
}

export interface AccessOptions {
  keys: KeyStore;
  /** Requests a minute per client IP; 0 turns the limit off. */
  perIpPerMinute: number;
  /** Requests a minute per API key; 0 turns the limit off. */
  perKeyPerMinute: number;
}

/** OpenAPI: the two ways a route takes a key (either). Keys are off until the first is created. */
// The empty requirement: without any key, as long as none has been created.
export const KEY_SECURITY: { [scheme: string]: string[] }[] = [{ bearerKey: [] }, { headerKey: [] }, {}];
export const SECURITY_SCHEMES = {
  bearerKey: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer lw_…' },
  headerKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'X-API-Key: lw_…' },
} as const;

/** Query parameters where a client may put its key by mistake: refused as credentials, redacted in logs. */
const KEY_PARAMS = 'api_key|apikey|key|token|access_token';
const URL_CREDENTIAL = new RegExp(`[?&](?:${KEY_PARAMS})=`, 'i');
const URL_SECRET_VALUE = new RegExp(`([?&](?:${KEY_PARAMS}|password)=)[^&#]*`, 'gi');

/** A URL with the values of credential-like query parameters replaced, for logs. */
export function redactUrlCredentials(url: string): string {
  return url.replace(URL_SECRET_VALUE, '$1***');
}

/**
 * The key a request presents: `Authorization: Bearer …` or `X-API-Key`, never the URL. Two
 * different keys are refused: which one the client meant is not ours to guess.
 */
function presentedKey(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  const bearer = typeof auth === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1] : undefined;
  const header = request.headers['x-api-key'];
  const apiKey = typeof header === 'string' && header !== '' ? header.trim() : undefined;
  if (bearer !== undefined && apiKey !== undefined && bearer !== apiKey) {
    throw Errors.unauthorized('two different keys were sent, in Authorization and in X-API-Key; send one');
  }
  return bearer ?? apiKey;
}

/**
 * API keys and rate limits, before anything else is read: keys are off until the first one is
 * created, then every route with a `scope` needs a live key that allows it.
 */
export function installAccessControl(app: FastifyInstance, { keys, perIpPerMinute, perKeyPerMinute }: AccessOptions): void {
  const byIp = createRateLimiter(perIpPerMinute);
  const byKey = createRateLimiter(perKeyPerMinute);
  app.decorateRequest('apiKey', null);
  app.addHook('onRequest', async (request) => {
    const { scope, unlimited } = request.routeOptions.config;
    if (unlimited) return;
    const ipWait = byIp.take(request.ip);
    if (ipWait > 0) throw Errors.rateLimited(ipWait, 'this address');
    if (scope === undefined) return;
    let key: ApiKeyInfo | null;
    try {
      if (!(await keys.required())) return;
      const presented = presentedKey(request);
      if (presented === undefined) {
        throw Errors.unauthorized(URL_CREDENTIAL.test(request.url)
          ? 'API keys are not accepted in the URL; send the key as "Authorization: Bearer <key>" or "X-API-Key: <key>"'
          : 'this route needs an API key: send it as "Authorization: Bearer <key>" or "X-API-Key: <key>"');
      }
      key = await keys.verify(presented);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw Object.assign(Errors.storeUnavailable(scope === 'predict' ? 'record' : 'read'), { cause: err });
    }
    if (!key) throw Errors.unauthorized('the API key is not valid or has been revoked');
    if (!allows(key.scope, scope)) throw Errors.forbidden(scope, key.scope);
    request.apiKey = key;
    request.log = request.log.child({ key: key.prefix });
    const keyWait = byKey.take(`key:${key.id}`);
    if (keyWait > 0) throw Errors.rateLimited(keyWait, 'this API key');
  });
}
