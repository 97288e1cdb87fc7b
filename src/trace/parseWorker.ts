/**
 * A trace-parsing worker (its own bundle, dist/parseWorker.js): receives blocks of whole lines,
 * returns them as records (records.ts). The analysis stays in the thread that started it.
 */
import { parentPort } from 'node:worker_threads';
import { RecordEncoder } from './records';

const encoder = new RecordEncoder();
parentPort?.on('message', (m: { seq: number; buf: ArrayBuffer; len: number }) => {
  const out = encoder.encode(m.seq, m.buf, m.len);
  parentPort?.postMessage(out, [out.rec.buffer as ArrayBuffer, out.input]);
});
