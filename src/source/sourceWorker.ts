/**
 * A driver source worker (its own bundle, dist/sourceWorker.js): loads the C parser once, then
 * runs the parsing steps of the drivers it is sent (analyze.ts driverPass) one after another, with
 * its own header cache. What it answers is plain data (sourceWorkers.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { driverPass, type PassOptions, passContext } from './analyze';
import type { PassJob, PassMessage } from './sourceWorkers';
import { loadCParser } from './treeSitter';

const opts = workerData as PassOptions;
const ctx = passContext(opts);
const ready = loadCParser(opts.parser);
const post = (m: PassMessage) => parentPort?.postMessage(m);
let queue: Promise<void> = Promise.resolve();

async function run(m: PassJob): Promise<void> {
  try {
    await ready;
    const pass = await driverPass(ctx, m.dir, m.files, m.budget, { onFile: (display) => post({ type: 'file', job: m.job, display }) });
    post({ type: 'done', job: m.job, pass });
  } catch (e) {
    const err = e as Error;
    post({ type: 'error', job: m.job, message: err.message, ...(err.stack ? { stack: err.stack } : {}) });
  }
}

parentPort?.on('message', (m: PassJob) => {
  queue = queue.then(() => run(m));
});
