import { type Command, Option } from 'commander';
import { type Config, ConfigError, OPTIONS, type OptionKey, type RawOptions, loadConfig, optionDefault, optionDescription } from '../config.js';

/** Adds the given config options to a command, each with its env var and default in the help. */
export function addConfigOptions(command: Command, keys: readonly OptionKey[]): Command {
  for (const key of keys) {
    const { env, flag } = OPTIONS[key];
    // No commander default: an unset flag must fall through to the env var, then to the schema's default.
    command.addOption(new Option(`${flag} <value>`, `${optionDescription(key)} (env: ${env}, default: ${String(optionDefault(key))})`));
  }
  return command;
}

/** Turns parsed CLI options into a validated Config, or exits with one clear line. */
export function configFromCli(opts: Record<string, unknown>): Config {
  const flags: RawOptions = {};
  for (const key of Object.keys(OPTIONS) as OptionKey[]) {
    const value = opts[key];
    if (typeof value === 'string') flags[key] = value;
  }
  try {
    return loadConfig(flags);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

export function fail(message: string): never {
  process.stderr.write(`leakwatch: ${message}\n`);
  process.exit(1);
}

export const SERVE_OPTIONS = Object.keys(OPTIONS) as OptionKey[];
export const MODEL_OPTIONS: OptionKey[] = ['modelPath', 'labels', 'mean', 'std'];
export const DB_OPTIONS: OptionKey[] = ['databaseUrl', 'sqliteSynchronous', 'databasePoolSize', 'databaseStartupWaitS', 'logLevel'];
export const PREDICT_OPTIONS: OptionKey[] = [
  ...MODEL_OPTIONS, 'leakThreshold', 'severityLowThreshold', 'severityHighThreshold',
  'maxUploadBytes', 'maxImagePixels', 'maxBatch', 'inferenceWorkers', 'inferenceThreads', 'logLevel',
];
