import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { type Config, specFallbacks } from './config.js';
import { type Classifier, startClassifier } from './inference/classifier.js';
import { type Store, type StoreOptions, openStore, parseDatabaseUrl, redactDatabaseUrl } from './store/dialect.js';
import { type HistoryStore, createHistoryStore } from './store/history-store.js';
import { migrateToLatest } from './store/migrations.js';
import { startRetention } from './store/retention.js';
import { type KeyStore, createKeyStore } from './auth/key-store.js';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export function classifierOptions(config: Config) {
  return {
    modelPath: config.modelPath,
    fallbacks: specFallbacks(config),
    workers: config.inferenceWorkers,
    intraOpThreads: config.inferenceThreads,
    spinning: config.inferenceSpinning,
    nice: config.inferenceNice,
    maxBatch: config.maxBatch,
    maxQueueDelayMs: config.maxQueueDelayMs,
  };
}

/** The history and the API keys, on one migrated store; closing the history closes both. */
export interface Stores {
  history: HistoryStore;
  keys: KeyStore;
}

/** The store DATABASE_URL names, opened with the configured settings (`options` overrides them). */
export function openConfiguredStore(config: Config, options: Partial<StoreOptions> = {}): Promise<Store> {
  return openStore(parseDatabaseUrl(config.databaseUrl), {
    synchronous: config.sqliteSynchronous,
    poolSize: config.databasePoolSize,
    startupWaitMs: config.databaseStartupWaitS * 1000,
    ...options,
  });
}

/** Applies pending migrations on one short-lived connection; resolves to the names applied. */
export async function migrateDatabase(config: Config): Promise<string[]> {
  const store = await openConfiguredStore(config, { poolSize: 1 });
  try {
    return await migrateToLatest(store.db);
  } finally {
    await store.close();
  }
}

export async function openStores(config: Config, log?: (err: Error) => void): Promise<Stores> {
  const store = await openConfiguredStore(config, log ? { onBackgroundError: log } : {});
  try {
    await migrateToLatest(store.db);
  } catch (err) {
    await store.close();
    throw err;
  }
  return { history: createHistoryStore(store), keys: createKeyStore(store) };
}

export async function openHistory(config: Config, log?: (err: Error) => void): Promise<HistoryStore> {
  return (await openStores(config, log)).history;
}

/** Opens the store, loads the model, and listens. Rejects with a one-line error when any of them fails. */
export async function startServer(config: Config): Promise<RunningServer> {
  // Until the app's logger exists, a store warning goes to stderr as one line.
  let storeWarning = (err: Error): void => {
    process.stderr.write(`history store: ${err.message}\n`);
  };
  const { history, keys } = await openStores(config, (err) => storeWarning(err));
  let classifier: Classifier;
  try {
    classifier = await startClassifier(classifierOptions(config));
  } catch (err) {
    await history.close();
    throw err;
  }
  const app = await buildApp({ config, classifier, history, keys });
  storeWarning = (err) => {
    app.log.warn({ err }, 'history store: connection lost; it reconnects on the next query');
  };
  const retention = config.historyRetentionDays > 0 ? startRetention(history, { days: config.historyRetentionDays, log: app.log }) : undefined;
  const closeDeps = async () => {
    await retention?.stop();
    await classifier.close();
    await history.close();
  };
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await app.close();
    await closeDeps();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const { spec, sha256, path } = classifier.model;
  app.log.info({ model: path, sha256, input: `${spec.layout} ${spec.height}x${spec.width}`, labels: spec.labels, store: redactDatabaseUrl(config.databaseUrl) }, 'model loaded, serving');
  return {
    app,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    async close() {
      // Fastify stops accepting, answers 503 to newcomers, and waits for requests in flight.
      await app.close();
      await closeDeps();
    },
  };
}
