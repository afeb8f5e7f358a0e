import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread from a module next to the caller. Built, modules are JavaScript; under
 * tsx (tests, `npm run leakwatch`) they are TypeScript, and tsx's loader does not reach worker
 * threads by itself, so there the worker registers it first.
 */
export function startModuleWorker(callerUrl: string, name: string, workerData: unknown, options: Pick<WorkerOptions, 'resourceLimits'> = {}): Worker {
  const runningTs = callerUrl.endsWith('.ts');
  const url = new URL(`./${name}.${runningTs ? 'ts' : 'js'}`, callerUrl);
  if (!runningTs) return new Worker(url, { ...options, workerData });
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(bootstrap, { ...options, eval: true, workerData });
}
