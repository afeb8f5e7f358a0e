import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { type Classifier, startClassifier } from '../../src/inference/classifier.js';
import { classifierOptions, openStores } from '../../src/server.js';
import type { KeyStore } from '../../src/auth/key-store.js';
import type { HistoryStore } from '../../src/store/history-store.js';
import { DEFAULT_MODEL } from './paths.js';

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  classifier: Classifier;
  history: HistoryStore;
  keys: KeyStore;
  dir: string;
  close(): Promise<void>;
}

type Hooks = Pick<TestContext, 'after'>;

/**
 * The real app: the default model through onnxruntime-node, a real SQLite file in a temp dir.
 * Pass a test context to close it when that test ends; a suite calls `close()` in its `after`.
 */
export async function build(t?: Hooks, env: Record<string, string> = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'leakwatch-'));
  const config = loadConfig({}, { MODEL_PATH: DEFAULT_MODEL, DATABASE_URL: `sqlite:${join(dir, 'predictions.db')}`, ...env });
  const { history, keys } = await openStores(config);
  const classifier = await startClassifier(classifierOptions(config));
  const app = await buildApp({ config, classifier, history, keys, logger: false });
  const close = async () => {
    await app.close();
    await classifier.close();
    await history.close();
    rmSync(dir, { recursive: true, force: true });
  };
  t?.after(close);
  return { app, config, classifier, history, keys, dir, close };
}
