#!/usr/bin/env node
import { Command, Option } from 'commander';
import { HISTORY_FORMATS } from '../http/history-query.js';
import { runMigrate } from './db.js';
import { runExport, runImport } from './history.js';
import { SCOPES } from '../auth/key-store.js';
import { runKeysCreate, runKeysList, runKeysRevoke } from './keys.js';
import { DB_OPTIONS, MODEL_OPTIONS, PREDICT_OPTIONS, SERVE_OPTIONS, addConfigOptions, configFromCli } from './options.js';
import { runModel } from './model.js';
import { runPredict } from './predict.js';
import { runServe } from './serve.js';

const program = new Command()
  .name('leakwatch')
  .description('Classifies industrial sensor images as Leak or Normal, and records every prediction.')
  .showHelpAfterError();

addConfigOptions(program.command('serve').description('Serve the HTTP API (GET /docs for its documentation)'), SERVE_OPTIONS)
  .action((opts: Record<string, unknown>) => runServe(configFromCli(opts)));

addConfigOptions(
  program
    .command('predict')
    .description('Classify PNG files offline through the service\'s own pipeline; prints one JSON line per file and records nothing')
    .argument('<files...>', 'PNG files'),
  PREDICT_OPTIONS,
).action((files: string[], opts: Record<string, unknown>) => runPredict(files, configFromCli(opts)));

addConfigOptions(
  program
    .command('model')
    .description('Print what the service reads from a model: inputs, outputs, labels, normalization and SHA-256')
    .argument('[path]', 'ONNX model file (default: MODEL_PATH or the default model)'),
  MODEL_OPTIONS,
).action((path: string | undefined, opts: Record<string, unknown>) => runModel(configFromCli(path ? { ...opts, modelPath: path } : opts)));

const db = program.command('db').description('The history database');
addConfigOptions(db.command('migrate').description('Apply pending schema migrations (serve also applies them at start)'), DB_OPTIONS)
  .action((opts: Record<string, unknown>) => runMigrate(configFromCli(opts)));

const history = program.command('history').description('Move the prediction history in and out');
const collect = (value: string, previous: string[] = []) => [...previous, value];
addConfigOptions(
  history
    .command('export')
    .description('Write the history as CSV or NDJSON (oldest first), to stdout or --out; filters as GET /prediction_history')
    .addOption(new Option('--format <format>', 'csv or ndjson').choices(HISTORY_FORMATS.filter((f) => f !== 'json')).default('ndjson'))
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--sensor-id <id>', 'only this sensor (repeat for several)', collect)
    .option('--prediction <label>', 'only this prediction, e.g. Leak')
    .addOption(new Option('--severity <severity>', 'only this severity').choices(['none', 'low', 'high']))
    .option('--since <instant>', 'only records at or after this ISO 8601 instant')
    .option('--until <instant>', 'only records at or before this ISO 8601 instant')
    .addOption(new Option('--order <order>', 'asc (oldest first) or desc').choices(['asc', 'desc']))
    // Checked by runExport, which reports it in one line like the other filters.
    .option('--limit <n>', 'at most this many records'),
  DB_OPTIONS,
).action((opts: Record<string, unknown>) => {
  const o = opts as { format: 'csv' | 'ndjson'; out?: string; sensorId?: string[]; prediction?: string; severity?: 'none' | 'low' | 'high'; since?: string; until?: string; order?: 'asc' | 'desc'; limit?: string };
  const filters = Object.fromEntries(Object.entries({
    sensor_id: o.sensorId, prediction: o.prediction, severity: o.severity, since: o.since, until: o.until, order: o.order, limit: o.limit,
  }).filter(([, v]) => v !== undefined));
  return runExport(configFromCli(opts), { format: o.format, ...(o.out ? { out: o.out } : {}), filters });
});
addConfigOptions(
  history
    .command('import')
    .description('Read back what export wrote; records already in the store (same uid) are skipped, so running it twice adds nothing')
    .argument('<file>', 'a CSV or NDJSON file from history export')
    .addOption(new Option('--format <format>', 'csv or ndjson (default: from the file name, .csv or else ndjson)').choices(['csv', 'ndjson'])),
  DB_OPTIONS,
).action((file: string, opts: Record<string, unknown>) => runImport(configFromCli(opts), file, opts.format as 'csv' | 'ndjson' | undefined));

const keys = program.command('keys').description('API keys: off until the first is created, then required (see README, Security)');
addConfigOptions(
  keys
    .command('create')
    .description('Create a key and print it once (only its hash is stored)')
    .requiredOption('--name <name>', 'who or what uses it, e.g. "line-3 gateway"')
    .addOption(new Option('--scope <scope>', 'predict: POST /predict; read: history, sensors, metrics; admin: all').choices(SCOPES).makeOptionMandatory()),
  DB_OPTIONS,
).action((opts: Record<string, unknown>) => runKeysCreate(configFromCli(opts), String(opts.name), String(opts.scope)));
addConfigOptions(keys.command('list').description('List keys (never their secrets)'), DB_OPTIONS)
  .action((opts: Record<string, unknown>) => runKeysList(configFromCli(opts)));
addConfigOptions(keys.command('revoke').description('Revoke a key by id or prefix; every instance refuses it from the next request').argument('<key>', 'id (from keys list) or the key\'s lw_… prefix'), DB_OPTIONS)
  .action((which: string, opts: Record<string, unknown>) => runKeysRevoke(configFromCli(opts), which));

await program.parseAsync();
