import { availableParallelism } from 'node:os';
import Type, { type Static, type TSchema } from 'typebox';
import Value from 'typebox/value';
import { SPINNING } from './inference/threads.js';

/**
 * Every option of the service, declared once: its type, default, env var, CLI flag and help.
 * `leakwatch serve --help`, README's table and the validation all read from here.
 */
const option = <T extends TSchema>(env: string, flag: string, schema: T) => ({ env, flag, schema });

const Probability = (def: number, description: string) =>
  Type.Number({ minimum: 0, maximum: 1, default: def, description });

export const OPTIONS = {
  host: option('HOST', '--host', Type.String({ minLength: 1, default: '0.0.0.0', description: 'Address to listen on' })),
  port: option('PORT', '--port', Type.Integer({ minimum: 0, maximum: 65535, default: 8000, description: 'TCP port to listen on (0 picks a free one)' })),
  modelPath: option('MODEL_PATH', '--model-path', Type.String({ minLength: 1, default: 'models/resnet18_binary_finetuned.onnx', description: 'ONNX model file' })),
  databaseUrl: option('DATABASE_URL', '--database-url', Type.String({ minLength: 1, default: 'sqlite:data/predictions.db', description: 'History store: sqlite:PATH or postgres://…' })),
  leakThreshold: option('LEAK_THRESHOLD', '--leak-threshold', Probability(0.5, 'An image is a Leak when p(Leak) ≥ this')),
  severityLowThreshold: option('SEVERITY_LOW_THRESHOLD', '--severity-low-threshold', Probability(0.5, 'A Leak with confidence ≥ this is "low"')),
  severityHighThreshold: option('SEVERITY_HIGH_THRESHOLD', '--severity-high-threshold', Probability(0.9, 'A Leak with confidence ≥ this is "high"')),
  maxUploadBytes: option('MAX_UPLOAD_BYTES', '--max-upload-bytes', Type.Integer({ minimum: 1024, default: 10 * 1024 * 1024, description: 'Largest accepted upload, in bytes' })),
  maxImagePixels: option('MAX_IMAGE_PIXELS', '--max-image-pixels', Type.Integer({ minimum: 1, default: 40_000_000, description: 'Largest accepted image, width × height' })),
  labels: option('LABELS', '--labels', Type.String({ pattern: '^[^,]+,[^,]+$', default: 'Normal,Leak', description: 'Class labels when the model has none; the second is the leak class' })),
  mean: option('MEAN', '--mean', Type.String({ default: '0.485,0.456,0.406', description: 'Per-channel normalization mean when the model has none' })),
  std: option('STD', '--std', Type.String({ default: '0.229,0.224,0.225', description: 'Per-channel normalization std when the model has none' })),
  maxBatch: option('MAX_BATCH', '--max-batch', Type.Integer({ minimum: 1, maximum: 256, default: 8, description: 'Most images grouped into one inference run (8 measured best here: see README, Performance)' })),
  maxQueue: option('MAX_QUEUE', '--max-queue', Type.Integer({ minimum: 1, maximum: 100_000, default: 128, description: 'Most predict requests admitted at once (being read, queued or classified); beyond it, 503 with Retry-After' })),
  maxQueueDelayMs: option('MAX_QUEUE_DELAY_MS', '--max-queue-delay-ms', Type.Integer({ minimum: 0, maximum: 10_000, default: 0, description: 'How long a partial batch may wait for more images while a worker is idle' })),
  inferenceWorkers: option('INFERENCE_WORKERS', '--inference-workers', Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'Inference worker threads, each with its own ONNX Runtime session' })),
  inferenceThreads: option('INFERENCE_THREADS', '--inference-threads', Type.Integer({ minimum: 1, maximum: 256, default: availableParallelism(), description: 'ONNX Runtime intra-op threads per worker; defaults to the number of cores' })),
  inferenceSpinning: option('INFERENCE_SPINNING', '--inference-spinning', Type.Union([Type.Literal(SPINNING[0]), Type.Literal(SPINNING[1]), Type.Literal(SPINNING[2])], { default: 'during-runs', description: 'What idle ONNX Runtime threads do: spin only during a run (during-runs), never (off), or between runs too (always, ONNX Runtime\'s default)' })),
  inferenceNice: option('INFERENCE_NICE', '--inference-nice', Type.Integer({ minimum: 0, maximum: 19, default: 0, description: 'Nice value of the inference threads (Linux): above 0 they yield the CPU to HTTP, decoding and history writes, which shortens probe latency under full load but lets a flood of rejected requests starve inference (see README, Performance)' })),
  databasePoolSize: option('DATABASE_POOL_SIZE', '--database-pool-size', Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'PostgreSQL: most connections each process opens' })),
  databaseStartupWaitS: option('DATABASE_STARTUP_WAIT_S', '--database-startup-wait-s', Type.Integer({ minimum: 0, maximum: 3600, default: 30, description: 'PostgreSQL: how long start-up retries an unreachable server before giving up' })),
  historyRetentionDays: option('HISTORY_RETENTION_DAYS', '--history-retention-days', Type.Integer({ minimum: 0, maximum: 36_500, default: 0, description: 'Delete records older than this many days, in small batches; 0 keeps everything' })),
  workers: option('WORKERS', '--workers', Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'Server processes sharing the port (node:cluster), each with its own model; INFERENCE_THREADS defaults to the cores divided among them' })),
  rateLimitPerIp: option('RATE_LIMIT_PER_IP', '--rate-limit-per-ip', Type.Integer({ minimum: 0, maximum: 1_000_000, default: 6000, description: 'Requests a minute from one client address (health probes excepted); beyond it, 429 with Retry-After; 0 turns it off' })),
  rateLimitPerKey: option('RATE_LIMIT_PER_KEY', '--rate-limit-per-key', Type.Integer({ minimum: 0, maximum: 1_000_000, default: 6000, description: 'Requests a minute with one API key; beyond it, 429 with Retry-After; 0 turns it off' })),
  trustProxy: option('TRUST_PROXY', '--trust-proxy', Type.String({ default: 'false', description: 'Behind a load balancer: true, a hop count, or its addresses (comma-separated), so client addresses come from X-Forwarded-For' })),
  corsOrigins: option('CORS_ORIGINS', '--cors-origins', Type.String({ default: '', description: 'Origins allowed to call the API from a browser (comma-separated, or *); empty turns CORS off' })),
  sqliteSynchronous: option('SQLITE_SYNCHRONOUS', '--sqlite-synchronous', Type.Union([Type.Literal('FULL'), Type.Literal('NORMAL')], { default: 'FULL', description: 'SQLite durability: FULL syncs every commit to disk; NORMAL may lose the last commits on power loss' })),
  requestTimeoutMs: option('REQUEST_TIMEOUT_MS', '--request-timeout-ms', Type.Integer({ minimum: 1000, default: 60_000, description: 'Longest time a client may take to send a request' })),
  logLevel: option('LOG_LEVEL', '--log-level', Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info', description: 'Log level' })),
};

export type OptionKey = keyof typeof OPTIONS;
type OptionsSchema = { [K in OptionKey]: (typeof OPTIONS)[K]['schema'] };
export type Config = Readonly<{ [K in OptionKey]: Static<OptionsSchema[K]> }>;

/** An option's documented default. */
export const optionDefault = (key: OptionKey): unknown => (OPTIONS[key].schema as { default?: unknown }).default;

/** An option's help text. */
export const optionDescription = (key: OptionKey): string => (OPTIONS[key].schema as { description?: string }).description ?? '';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Raw option values as strings: CLI flags (camelCase keys) win over env vars, which win over defaults. */
export type RawOptions = Partial<Record<OptionKey, string | undefined>>;

function describeError(key: OptionKey, schema: TSchema, raw: string): string {
  const { env, flag } = OPTIONS[key];
  const s = schema as { minimum?: number; maximum?: number; type?: string; anyOf?: { const: string }[]; pattern?: string };
  let expected: string;
  if (s.anyOf) expected = `one of ${s.anyOf.map((a) => a.const).join(', ')}`;
  else if (s.type === 'integer' || s.type === 'number') {
    const kind = s.type === 'integer' ? 'an integer' : 'a number';
    const range = [s.minimum !== undefined ? `≥ ${s.minimum}` : '', s.maximum !== undefined ? `≤ ${s.maximum}` : ''].filter(Boolean).join(' and ');
    expected = range ? `${kind} ${range}` : kind;
  } else if (s.pattern) expected = `a value matching ${s.pattern}`;
  else expected = 'a non-empty string';
  return `invalid ${env} (${flag}) = ${JSON.stringify(raw)}: expected ${expected}`;
}

function parseOne(key: OptionKey, raw: string | undefined): unknown {
  const schema = OPTIONS[key].schema as unknown as TSchema & { default: unknown };
  if (raw === undefined) return schema.default;
  const trimmed = raw.trim();
  const value = Value.Convert(schema, trimmed);
  // Convert is lenient ('' → 0, '1e3' → 1000, '80.5' → 80 for integers): insist on plain decimals.
  const type = (schema as { type?: string }).type;
  const plain = type === 'integer' ? /^-?\d+$/ : type === 'number' ? /^-?\d+(\.\d+)?$/ : /./s;
  if (!plain.test(trimmed) || !Value.Check(schema, value)) {
    throw new ConfigError(describeError(key, schema, raw));
  }
  return value;
}

function parseTriple(key: 'mean' | 'std', raw: string): readonly [number, number, number] {
  const parts = raw.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p)) || (key === 'std' && parts.some((p) => p <= 0))) {
    throw new ConfigError(`invalid ${OPTIONS[key].env} (${OPTIONS[key].flag}) = ${JSON.stringify(raw)}: expected three comma-separated numbers${key === 'std' ? ' > 0' : ''}`);
  }
  return parts as unknown as readonly [number, number, number];
}

/** Reads, validates and freezes the configuration. Throws ConfigError with one line naming the option. */
export function loadConfig(flags: RawOptions = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(OPTIONS) as OptionKey[]) {
    const raw = flags[key] ?? env[OPTIONS[key].env];
    out[key] = parseOne(key, raw === '' && flags[key] === undefined ? undefined : raw);
  }
  const config = out as Config;
  parseTriple('mean', config.mean);
  parseTriple('std', config.std);
  if (!(config.severityLowThreshold <= config.severityHighThreshold)) {
    throw new ConfigError(
      `invalid thresholds: SEVERITY_LOW_THRESHOLD (${config.severityLowThreshold}) must be ≤ SEVERITY_HIGH_THRESHOLD (${config.severityHighThreshold})`,
    );
  }
  return Object.freeze(config);
}

function configTriple(config: Config, key: 'mean' | 'std'): readonly [number, number, number] {
  return parseTriple(key, config[key]);
}

/** A comma-separated option's items, trimmed, empty ones dropped. */
const commaList = (value: string): string[] => value.split(',').map((item) => item.trim()).filter(Boolean);

/** Fastify's trustProxy from TRUST_PROXY: false, true, a hop count, or addresses. */
export function trustProxySetting(config: Config): boolean | string[] | ((address: string, hop: number) => boolean) {
  const v = config.trustProxy.trim();
  if (v === '' || v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    return (_address, hop) => hop < hops;
  }
  return commaList(v);
}

/** Allowed CORS origins from CORS_ORIGINS: false (CORS off), true (any origin) or a list. */
export function corsOrigins(config: Config): boolean | string[] {
  const v = config.corsOrigins.trim();
  if (v === '') return false;
  if (v === '*') return true;
  return commaList(v);
}

/** Labels and normalization for a model whose metadata lacks them. */
export function specFallbacks(config: Config) {
  return { labels: configLabels(config), mean: configTriple(config, 'mean'), std: configTriple(config, 'std') };
}

function configLabels(config: Config): readonly [string, string] {
  const [normal, leak] = config.labels.split(',').map((l) => l.trim());
  return [normal!, leak!];
}
