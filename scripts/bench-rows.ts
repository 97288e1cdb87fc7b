/**
 * `npm run bench:rows`: the per-call row store on 10 million rows, built in a worker thread and
 * transferred to the main thread as the extension host gets it, then read the way the panel
 * reads it (a filter scan over every row, the chart's times, a page of rows).
 *
 * Against a baseline in the same command: the table as it was (one array per column of the
 * declared type, doubling as it grows, all in memory). Each variant runs three times in a
 * process of its own; the medians of peak RSS (the whole process: worker and main thread, as
 * the extension host's) and of the table's bytes per row are printed.
 * Where the runtime has node:sqlite (Node 22.5+: code-server's Node 24), a third variant puts the
 * same rows in an embedded database file and reads them back with SQL.
 * BENCH_ROWS overrides the row count (default 10,000,000), BENCH_RUNS the runs (3);
 * The `chart` variant is `store` plus the panel's chart series (analysis/timeline.ts) built over the
 * transferred rows, as the extension host builds them: its peak less store's is the chart's cost.
 * BENCH_VARIANTS=store,sqlite picks variants.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { EventKind, Outcome } from '../src/analysis/codes';
import { COLUMN_NAMES, type ColumnName, columnArrays, type EventInit } from '../src/analysis/columns';
import { EventTable, type EventTableTransfer } from '../src/analysis/eventTable';
import { queryRows } from '../src/analysis/query';
import { Timeline } from '../src/analysis/timeline';
import { DmaDirection } from '../src/model/constants';

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
type Variant = 'baseline' | 'store' | 'chart' | 'sqlite';

/** What this benchmark uses of node:sqlite (the installed @types/node predates it). */
interface Statement {
  run(...v: number[]): unknown;
  all(...v: number[]): unknown[];
  get(...v: number[]): unknown;
  iterate(...v: number[]): Iterable<unknown>;
}
interface Sqlite {
  DatabaseSync: new (file: string) => { exec(sql: string): void; prepare(sql: string): Statement; close(): void };
}

/** node:sqlite where the runtime has it (Node 22.5+, code-server's Node 24; not Node 20). */
function sqlite(): Sqlite | null {
  try {
    return require('node:sqlite') as Sqlite;
  } catch {
    return null;
  }
}
const SQL_FILE = path.join(os.tmpdir(), `bench-rows-${process.pid}.sqlite`);

/** A streaming trace's rows: maps and their unmaps, 8 CPUs, two devices, the pool filling and draining. */
function* rows(n: number): Generator<EventInit> {
  const sizes = [1514, 4096, 8192, 16384, 65536];
  let x = 12345;
  const rand = () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x80000000;
  };
  const open: number[] = [];
  let used = 0;
  for (let i = 0; i < n; i++) {
    const time = 1000 + i * 2e-6;
    if (open.length && (open.length > 600 || rand() < 0.45)) {
      const map = open.splice(Math.floor(rand() * Math.min(32, open.length)), 1)[0] as number;
      used -= 4;
      yield {
        kind: EventKind.Unmap,
        outcome: Outcome.Released,
        time,
        cpu: i % 8,
        device: 1 + (map % 2),
        api: 2,
        size: 4096,
        slot: (map * 4) % 16384,
        nslots: 4,
        area: map % 8,
        used,
        phys: 0x1_0000_0000 + map * 512,
        dma: 0x7c000000 + ((map * 4) % 16384) * 2048,
        copied: 4096,
        pair: map,
        file: 1,
        line: i + 10,
      };
    } else {
      const size = sizes[Math.floor(rand() * sizes.length)] as number;
      open.push(i);
      used += 4;
      yield {
        kind: EventKind.Map,
        outcome: Outcome.Bounced,
        time,
        cpu: i % 8,
        device: 1 + (i % 2),
        api: 1,
        size,
        dir: DmaDirection.TO_DEVICE,
        reasons: 1,
        slot: (i * 4) % 16384,
        nslots: 4,
        area: i % 8,
        used,
        phys: 0x1_0000_0000 + i * 512,
        dma: 0x7c000000 + ((i * 4) % 16384) * 2048,
        copied: size,
        file: 1,
        line: i + 10,
      };
    }
  }
}

/** The table before the row store: a declared-type array per column, doubled when full. */
class DoublingTable {
  length = 0;
  cols = Object.fromEntries(COLUMN_NAMES.map((c) => [c, new (columnArrays(c).array)(1024)])) as Record<ColumnName, Float64Array>;
  push(e: EventInit): void {
    if (this.length === this.cols.time.length)
      for (const c of COLUMN_NAMES) {
        const b = new (this.cols[c].constructor as Float64ArrayConstructor)(this.cols[c].length * 2);
        b.set(this.cols[c]);
        this.cols[c] = b;
      }
    const r = e as unknown as Record<string, number>;
    for (const c of COLUMN_NAMES) this.cols[c][this.length] = r[c] ?? -1;
    this.length++;
  }
}

function worker(variant: Variant): void {
  if (variant === 'sqlite') {
    // the embedded database: every row inserted in 64K-row transactions into a file in tmpdir
    const { file } = workerData as unknown as { file: string };
    const db = new (sqlite() as Sqlite).DatabaseSync(file);
    db.exec('PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;');
    db.exec(
      `CREATE TABLE rows (${COLUMN_NAMES.map((c) => `${c} ${c === 'time' || c === 'phys' || c === 'dma' ? 'REAL' : 'INTEGER'}`).join(', ')})`,
    );
    const ins = db.prepare(`INSERT INTO rows VALUES (${COLUMN_NAMES.map(() => '?').join(', ')})`);
    let i = 0;
    db.exec('BEGIN');
    for (const e of rows(ROWS)) {
      const r = e as unknown as Record<string, number>;
      ins.run(...COLUMN_NAMES.map((c) => r[c] ?? -1));
      if (++i % 65536 === 0) {
        db.exec('COMMIT');
        db.exec('BEGIN');
      }
    }
    db.exec('COMMIT');
    db.close();
    parentPort?.postMessage({ file });
    return;
  }
  if (variant === 'baseline') {
    const t = new DoublingTable();
    for (const e of rows(ROWS)) t.push(e);
    const cols = Object.fromEntries(COLUMN_NAMES.map((c) => [c, t.cols[c].subarray(0, t.length)]));
    const bytes = COLUMN_NAMES.reduce((n, c) => n + t.cols[c].byteLength, 0);
    parentPort?.postMessage(
      { length: t.length, cols, bytes },
      Object.values(cols).map((a) => a.buffer as ArrayBuffer),
    );
    return;
  }
  const t = new EventTable();
  t.apis.intern('dma_map_page');
  t.apis.intern('dma_unmap_page');
  t.devices.intern('0000:00:03.0');
  t.devices.intern('0000:00:04.0');
  t.files.intern('synthetic.trace');
  for (const e of rows(ROWS)) t.push(e);
  const x = t.toTransfer();
  parentPort?.postMessage(x, EventTable.transferList(x));
}

async function child(variant: Variant): Promise<void> {
  const t0 = performance.now();
  const got = await new Promise<unknown>((resolve, reject) => {
    const w = new Worker(__filename, {
      workerData: variant === 'sqlite' ? { variant, file: SQL_FILE } : variant,
      execArgv: process.execArgv,
    });
    w.once('message', resolve);
    w.once('error', reject);
  });
  const built = performance.now() - t0;
  let memory: number;
  let spilled = 0;
  let scanned = 0;
  if (variant === 'sqlite') {
    const db = new (sqlite() as Sqlite).DatabaseSync(SQL_FILE);
    memory = 0;
    spilled = fs.statSync(SQL_FILE).size;
    // the matching rows into an array as the store's query makes them (not one object each)
    const hits = new Int32Array(ROWS);
    for (const r of db.prepare('SELECT rowid FROM rows WHERE outcome = ?').iterate(Outcome.Bounced))
      hits[scanned++] = (r as { rowid: number }).rowid - 1;
    const times = new Float64Array(ROWS);
    let k = 0;
    for (const r of db.prepare('SELECT time FROM rows ORDER BY rowid').iterate()) times[k++] = (r as { time: number }).time;
    scanned += times.length > 0 ? 1 : 0;
    const one = db.prepare('SELECT * FROM rows WHERE rowid = ?');
    for (let i = 0; i < 200; i++) one.get(1 + Math.floor((ROWS * i) / 200));
    db.close();
    fs.rmSync(SQL_FILE, { force: true });
  } else if (variant === 'baseline') {
    const g = got as { length: number; cols: Record<ColumnName, Float64Array>; bytes: number };
    memory = g.bytes;
    // the same reads: a filter over every row, the chart's times
    for (let i = 0; i < g.length; i++) if (g.cols.outcome[i] === Outcome.Bounced && (g.cols.size[i] as number) > 8192) scanned++;
    const times = g.cols.time.subarray(0, g.length);
    scanned += times.length > 0 ? 1 : 0;
  } else {
    const t = EventTable.fromTransfer(got as EventTableTransfer);
    ({ memory, spilled } = t.bytes);
    scanned = queryRows(t, { outcomes: [Outcome.Bounced] }).length;
    const times = variant === 'chart' ? new Timeline(t, 8).times : t.gather('time');
    scanned += times.length > 0 ? 1 : 0;
    for (let i = 0; i < 200; i++) t.raw(Math.floor((t.length * i) / 200));
    t.dispose();
  }
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(
    JSON.stringify({
      variant,
      rows: ROWS,
      peak,
      memory,
      spilled,
      ms: Math.round(performance.now() - t0),
      builtMs: Math.round(built),
      scanned,
    }),
  );
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function main(): void {
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
  const results: Record<Variant, { peak: number; memory: number; spilled: number; ms: number }[]> = {
    baseline: [],
    store: [],
    chart: [],
    sqlite: [],
  };
  const variants = (sqlite() ? ['baseline', 'store', 'chart', 'sqlite'] : ['baseline', 'store', 'chart']).filter(
    (v) => !process.env.BENCH_VARIANTS || process.env.BENCH_VARIANTS.split(',').includes(v),
  ) as Variant[];
  if (!sqlite()) console.log(`node:sqlite: not in Node ${process.version} (the embedded-database variant needs Node 22.5+)`);
  for (let run = 0; run < RUNS; run++)
    for (const v of variants) {
      const r = spawnSync(process.execPath, [...process.execArgv, __filename, 'child', v], {
        encoding: 'utf8',
        env: process.env,
        maxBuffer: 1 << 24,
      });
      if (r.status !== 0) throw new Error(`${v}: ${r.stderr}`);
      const j = JSON.parse(r.stdout.trim().split('\n').pop() as string);
      results[v].push(j);
      console.log(
        `run ${run + 1} ${v}: peak RSS ${mb(j.peak)}, table ${mb(j.memory)} in memory + ${mb(j.spilled)} spilled (${((j.memory + j.spilled) / ROWS).toFixed(1)} bytes/row), ${j.ms} ms`,
      );
    }
  for (const v of variants) {
    const r = results[v];
    const peak = median(r.map((x) => x.peak));
    const mem = median(r.map((x) => x.memory));
    const all = median(r.map((x) => x.memory + x.spilled));
    console.log(
      `${v}: median peak RSS ${mb(peak)}; rows in memory ${mb(mem)} (${(mem / ROWS).toFixed(1)} bytes/row), stored ${(all / ROWS).toFixed(1)} bytes/row; median ${median(r.map((x) => x.ms))} ms`,
    );
  }
  const peakOf = (v: Variant) => median(results[v].map((x) => x.peak));
  if (results.baseline.length && results.store.length)
    console.log(
      `peak RSS: baseline / store = ${(peakOf('baseline') / peakOf('store')).toFixed(2)}x (${ROWS.toLocaleString('en-US')} rows)`,
    );
  if (results.chart.length && results.store.length)
    console.log(`the chart's series: ${mb(peakOf('chart') - peakOf('store'))} of peak RSS more than store alone`);
  if (results.sqlite.length && results.store.length)
    console.log(
      `peak RSS: sqlite / store = ${(peakOf('sqlite') / peakOf('store')).toFixed(2)}x; time sqlite / store = ${(median(results.sqlite.map((x) => x.ms)) / median(results.store.map((x) => x.ms))).toFixed(2)}x`,
    );
}

if (!isMainThread) worker(typeof workerData === 'string' ? (workerData as Variant) : 'sqlite');
else if (process.argv[2] === 'child') void child(process.argv[3] as Variant);
else main();
