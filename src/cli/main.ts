#!/usr/bin/env node
import { Command } from 'commander';
import { MODEL_OPTIONS, PREDICT_OPTIONS, SERVE_OPTIONS, addConfigOptions, configFromCli } from './options.js';
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

await program.parseAsync();
