/**
 * Reads a file with its lines worked on in worker threads: blocks of whole lines go out to the
 * workers in turn, their results come back in any order and are handed on in file order. Over-long
 * lines are cut out here (the one line splitter, lineBytes.ts), so the workers see only lines a
 * sequential reader would take.
 */
import { Worker } from 'node:worker_threads';
import { CHUNK_BYTES, fileChunks, isGzipDamage } from './chunks';
import { abortError, type ByteBlockSink, ByteLineSplitter, DEFAULT_MAX_LINE_BYTES, damageMessage } from './lineBytes';

/** A block buffer's usual size: a chunk of the file (chunks.ts) plus the line carried into it. */
const BLOCK_BYTES = CHUNK_BYTES + (64 << 10);

export interface BlockWorkers {
  readonly count: number;
  /** The worker script: receives {seq, buf, len} (buf transferred), answers with a result carrying seq. */
  readonly script: string;
  readonly execArgv?: string[];
}

/** What a worker hands back for one block. */
export interface BlockResult {
  readonly seq: number;
  /** The block's buffer, transferred back: the reader reuses it for a later block. */
  readonly input?: ArrayBuffer;
}

export interface ParallelReadOptions<R extends BlockResult> {
  /** A block's result, in file order; `worker` tells which worker made it. */
  readonly onResult: (worker: number, result: R) => void;
  /** An over-long line (skipped), in file order between the results. */
  readonly onOverlong: (bytes: number) => void;
  /** After every earlier result: the gzip data is damaged or cut short, what came before counts. */
  readonly onDamage: (message: string) => void;
  readonly signal?: AbortSignal;
  /** Decompressed bytes of each chunk read. */
  readonly onBytes?: (n: number) => void;
  readonly maxLineBytes?: number;
}

export async function readBlocksInParallel<R extends BlockResult>(
  file: string,
  cfg: BlockWorkers,
  opts: ParallelReadOptions<R>,
): Promise<void> {
  const workers = Array.from({ length: cfg.count }, () => new Worker(cfg.script, cfg.execArgv ? { execArgv: cfg.execArgv } : {}));
  /** Results by block number; an over-long line is a block of its own. */
  const done = new Map<number, { w: number; result: R } | { overlong: number }>();
  let sent = 0;
  let next = 0;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  // blocks in flight: enough that neither side waits for the other when the machine is busy and
  // one of them is not scheduled for a while (about 2 MiB each, text and records)
  const limit = Math.max(16, cfg.count * 4);
  const drain = () => {
    for (let d = done.get(next); d !== undefined; d = done.get(next)) {
      done.delete(next);
      next++;
      if ('overlong' in d) opts.onOverlong(d.overlong);
      else opts.onResult(d.w, d.result);
    }
    const w = wake;
    wake = null;
    w?.();
  };
  const pump = () => {
    try {
      drain();
    } catch (e) {
      failure = e as Error;
      wake?.();
    }
  };
  /** Block buffers the workers gave back (allocating a fresh one zeroes it first). */
  const spare: ArrayBuffer[] = [];
  workers.forEach((wk, w) => {
    wk.on('message', (result: R) => {
      if (result.input && spare.length < limit) spare.push(result.input);
      done.set(result.seq, { w, result });
      pump();
    });
    wk.on('error', (e) => {
      failure = e;
      wake?.();
    });
  });
  const waitFor = async (cond: () => boolean) => {
    // over-long lines queued since the last result are handed on here
    pump();
    while (!cond()) {
      if (failure) throw failure;
      await new Promise<void>((r) => {
        wake = r;
      });
    }
    if (failure) throw failure;
  };
  const blocks: ByteBlockSink = {
    block(buf, start, end) {
      const len = end - start;
      let copy = spare.pop();
      if (copy === undefined || copy.byteLength < len) copy = new ArrayBuffer(Math.max(len, BLOCK_BYTES));
      buf.copy(Buffer.from(copy, 0, len), 0, start, end);
      const seq = sent++;
      (workers[seq % cfg.count] as Worker).postMessage({ seq, buf: copy, len }, [copy]);
    },
    overlong(bytes) {
      done.set(sent++, { overlong: bytes });
    },
  };
  const splitter = new ByteLineSplitter(blocks, opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  try {
    try {
      for await (const c of fileChunks(file)) {
        if (opts.signal?.aborted) throw abortError();
        opts.onBytes?.(c.length);
        splitter.push(c);
        await waitFor(() => sent - next < limit);
      }
    } catch (e) {
      if (!isGzipDamage(e)) throw e;
      await waitFor(() => next === sent);
      opts.onDamage(damageMessage(e as Error));
    }
    splitter.end();
    await waitFor(() => next === sent);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
