import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_MODEL = fileURLToPath(new URL('../../models/resnet18_binary_finetuned.onnx', import.meta.url));
export const fixtureModel = (name: string) => fileURLToPath(new URL(`../fixtures/models/${name}`, import.meta.url));
export const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
