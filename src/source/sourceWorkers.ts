/**
 * Driver source analysis in worker threads: each worker loads its own C parser once and runs the
 * parsing steps of one driver (folder) at a time (analyze.ts driverPass); the results come back in
 * any order and are handed out in the order of the drivers, so the analysis is the same as in one
 * thread. Workers run ahead of the caller by a bounded number of drivers.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DriverPass, PassFile, PassOptions, SiteBudget } from './analyze';

export interface SourceWorkers {
  readonly count: number;
  /** The worker script (dist/sourceWorker.js, the bundle of sourceWorker.ts). */
  readonly script: string;
  /** Analyses of fewer files than this run in the calling thread (starting workers costs more). */
  readonly minFiles?: number;
  readonly execArgv?: string[];
}

export const SOURCE_WORKERS_MIN_FILES = 16;

/**
 * A worker's heap, MB (old and young generation). Parsing makes garbage faster than V8 collects
 * it while the heap may grow: unbounded, each worker on Linux's drivers/ reached 250 MB; at 96 + 8
 * the whole run peaks 40 % lower for about 5 % more CPU (64 costs 25 % more CPU for no less
 * memory). SWIOTLB_LENS_SOURCE_WORKER_HEAP_MB sets it (0: unbounded). A driver that does not fit
 * is analysed again in the calling thread.
 */
export const SOURCE_WORKER_HEAP_MB = 96;
const SOURCE_WORKER_YOUNG_MB = 8;

/** Drivers the workers may have done or under way beyond the one the caller waits for. */
const AHEAD = 32;
/** Jobs queued at one worker: one running, one waiting, so it never idles on a round trip. */
const PER_WORKER = 2;

/** Workers beside the bundle (dist/sourceWorker.js), one per CPU (at most 4); none when running from source. */
export function defaultSourceWorkers(): SourceWorkers | null {
  if (typeof __dirname !== 'string') return null;
  const script = join(__dirname, 'sourceWorker.js');
  if (!existsSync(script)) return null;
  // SWIOTLB_LENS_SOURCE_WORKERS=0 analyses in the calling thread (for comparisons)
  const env = process.env.SWIOTLB_LENS_SOURCE_WORKERS;
  const count = env !== undefined && /^\d+$/.test(env) ? Number(env) : Math.min(4, availableParallelism());
  return count > 0 ? { count, script } : null;
}

/** To a worker. */
export interface PassJob {
  readonly job: number;
  readonly dir: string;
  readonly files: readonly PassFile[];
  readonly budget: SiteBudget;
}

/** From a worker. */
export type PassMessage =
  | { readonly type: 'file'; readonly job: number; readonly display: string }
  | { readonly type: 'done'; readonly job: number; readonly pass: DriverPass }
  | { readonly type: 'error'; readonly job: number; readonly message: string; readonly stack?: string };

function cancelled(): Error {
  return Object.assign(new Error('cancelled'), { name: 'AbortError' });
}

export class DriverWorkers {
  private readonly workers: Worker[];
  /** Jobs sent to each worker and not answered. */
  private readonly load: number[];
  private readonly pending: Set<number>[];
  /** null: the worker ran out of heap on it (the caller analyses that driver itself). */
  private readonly results = new Map<number, DriverPass | null>();
  private waiter: { job: number; resolve: (p: DriverPass | null) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;
  /** Next driver to send ahead (speculatively: with no site budget). */
  private nextDriver = 0;
  /** The driver the caller is at. */
  private at = 0;
  private nextJob = 0;
  /** Job ids of the drivers sent ahead, by driver index. */
  private readonly aheadJob = new Map<number, number>();
  /** Jobs sent ahead whose answer is kept until the caller asks for it. */
  private readonly wanted = new Set<number>();
  /** false once the site budget ran out: every later driver is sent with the exact budget. */
  speculating = true;
  private readonly onAbort = () => this.fail(cancelled());
  private readonly spawn: () => Worker;

  constructor(
    cfg: SourceWorkers,
    opts: PassOptions,
    private readonly drivers: readonly (readonly [string, readonly PassFile[]])[],
    private readonly hooks: { readonly onFile?: (display: string) => void; readonly signal?: AbortSignal },
  ) {
    const n = Math.max(1, Math.min(cfg.count, drivers.length));
    const heapMb = Number(process.env.SWIOTLB_LENS_SOURCE_WORKER_HEAP_MB ?? SOURCE_WORKER_HEAP_MB);
    this.spawn = () =>
      new Worker(cfg.script, {
        workerData: opts,
        ...(heapMb > 0 ? { resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: SOURCE_WORKER_YOUNG_MB } } : {}),
        ...(cfg.execArgv ? { execArgv: cfg.execArgv } : {}),
      });
    this.workers = [];
    this.load = [];
    this.pending = [];
    for (let i = 0; i < n; i++) this.start(i);
    hooks.signal?.addEventListener('abort', this.onAbort);
    this.pump();
  }

  /** The pass of driver `i` made ahead without the budget; null: too big for a worker. */
  result(i: number): Promise<DriverPass | null> {
    this.at = i;
    this.pump();
    const job = this.aheadJob.get(i);
    if (job === undefined) throw new Error(`driver ${i} was not sent ahead`);
    this.aheadJob.delete(i);
    return this.wait(job);
  }

  /** The pass of driver `i` with the budget as the analysis in order has it; stops running ahead. */
  exact(i: number, budget: SiteBudget): Promise<DriverPass | null> {
    this.at = i;
    this.speculating = false;
    for (const job of this.aheadJob.values()) this.results.delete(job);
    this.aheadJob.clear();
    this.wanted.clear();
    return this.wait(this.send(i, budget));
  }

  async close(): Promise<void> {
    this.hooks.signal?.removeEventListener('abort', this.onAbort);
    this.failure ??= cancelled();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /** Starts worker `i` (again, after it ran out of heap). */
  private start(i: number): void {
    const w = this.spawn();
    this.workers[i] = w;
    this.load[i] = 0;
    this.pending[i] = new Set();
    let outOfMemory = false;
    w.on('message', (m: PassMessage) => this.onMessage(i, m));
    w.on('error', (e) => {
      if ((e as NodeJS.ErrnoException).code !== 'ERR_WORKER_OUT_OF_MEMORY' || this.failure) {
        this.fail(e);
        return;
      }
      // its drivers go back to the caller, a fresh worker takes its place
      outOfMemory = true;
      const lost = [...(this.pending[i] as Set<number>)];
      this.start(i);
      for (const job of lost) this.answer(job, null);
      this.pump();
    });
    w.on('exit', (code) => {
      if (code !== 0 && !outOfMemory) this.fail(new Error(`a source analysis worker stopped (exit code ${code})`));
    });
  }

  private send(i: number, budget: SiteBudget): number {
    const [dir, files] = this.drivers[i] as readonly [string, readonly PassFile[]];
    let w = 0;
    for (let k = 1; k < this.workers.length; k++) if ((this.load[k] as number) < (this.load[w] as number)) w = k;
    const job = this.nextJob++;
    this.load[w] = (this.load[w] as number) + 1;
    this.pending[w]?.add(job);
    const msg: PassJob = { job, dir, files, budget };
    (this.workers[w] as Worker).postMessage(msg);
    return job;
  }

  /** Sends drivers ahead while a worker has room and the caller is not too far behind. */
  private pump(): void {
    if (!this.speculating || this.failure) return;
    while (this.nextDriver < this.drivers.length && this.nextDriver < this.at + AHEAD && Math.min(...this.load) < PER_WORKER) {
      const i = this.nextDriver++;
      const job = this.send(i, { left: Number.POSITIVE_INFINITY, reported: false });
      this.aheadJob.set(i, job);
      this.wanted.add(job);
    }
  }

  private wait(job: number): Promise<DriverPass | null> {
    if (this.failure) return Promise.reject(this.failure);
    const done = this.results.get(job);
    if (done !== undefined) {
      this.results.delete(job);
      this.wanted.delete(job);
      return Promise.resolve(done);
    }
    return new Promise((resolve, reject) => {
      this.waiter = { job, resolve, reject };
    });
  }

  private onMessage(w: number, m: PassMessage): void {
    if (m.type === 'file') {
      this.hooks.onFile?.(m.display);
      return;
    }
    this.load[w] = (this.load[w] as number) - 1;
    this.pending[w]?.delete(m.job);
    if (m.type === 'error') {
      const e = new Error(m.message);
      if (m.stack) e.stack = m.stack;
      this.fail(e);
      return;
    }
    this.answer(m.job, m.pass);
    this.pump();
  }

  private answer(job: number, pass: DriverPass | null): void {
    const waiter = this.waiter;
    if (waiter?.job === job) {
      this.waiter = undefined;
      waiter.resolve(pass);
    } else if (this.wanted.has(job)) {
      this.results.set(job, pass);
    }
    this.wanted.delete(job);
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(e);
  }
}
