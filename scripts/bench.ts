/**
 * `npm run bench`: replay throughput on the largest golden workloads.
 * For each workload, in one process, alternating repetitions:
 *   - baseline: JSON.parse of every op line (the least any JSON Lines replay must do),
 *   - model: Replayer.apply over pre-parsed ops (the allocator and its bookkeeping),
 *   - end to end: parse + validate + replay + format the output line (what `replay` does per line).
 * Medians are reported with ns/op, ops/s and the ratio to the baseline. The whole suite runs
 * BENCH_ROUNDS times (default 3): each round's all-workload figures, then their median, with the
 * load average of the machine (the benchmark shares it with whatever else runs).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { resolveProfile } from '../src/model/profiles';
import { parseHeader, parseJsonLine, parseOp, type ReplayOp } from '../src/replay/format';
import { Replayer } from '../src/replay/replay';

const FIX = path.join(__dirname, '..', 'test', 'fixtures', 'golden');
const WORKLOADS = [
  '6.1/areas-n1',
  '6.1/areas-n16',
  '6.1/nvme',
  'mainline/areas-n1',
  'mainline/areas-n16',
  'mainline/nvme',
  'mainline/align',
];
const REPS = Number(process.env.BENCH_REPS ?? 9);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Wall time of one call, ns; its CPU time (user + system, this process) is added to `cpu`. */
const cpu = { ns: 0 };
function time(fn: () => void): number {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  fn();
  const ns = Number(process.hrtime.bigint() - t0);
  const c = process.cpuUsage(c0);
  cpu.ns += (c.user + c.system) * 1000;
  return ns;
}

let sink = 0;

interface Workload {
  readonly name: string;
  readonly n: number;
  readonly baseline: () => void;
  readonly model: () => void;
  readonly e2e: () => void;
}

const workloads: Workload[] = WORKLOADS.map((w) => {
  const text = gunzipSync(fs.readFileSync(path.join(FIX, `${w}.jsonl.gz`))).toString('utf8');
  const lines = text.split('\n').filter((l) => l.length > 0);
  const header = parseHeader(parseJsonLine(lines[0] as string, 1), 1);
  const profile = resolveProfile(header.kernel ?? '6.1');
  const body = lines.slice(1);
  const ops: ReplayOp[] = body.map((l, i) => parseOp(parseJsonLine(l, i + 2), header, i + 2));
  return {
    name: w,
    n: ops.length,
    baseline: () => {
      for (const l of body) sink += (JSON.parse(l) as { id: number }).id;
    },
    model: () => {
      const r = new Replayer(header, profile);
      for (const op of ops) sink += r.apply(op).json.length;
    },
    e2e: () => {
      const r = new Replayer(header, profile);
      for (let i = 0; i < body.length; i++) {
        const op = parseOp(parseJsonLine(body[i] as string, i + 2), header, i + 2);
        sink += r.apply(op).json.length;
      }
    },
  };
});

/** Per workload, every repetition's times (ns) over all rounds. */
const times = workloads.map(() => ({ b: [] as number[], m: [] as number[], e: [] as number[] }));
const rounds: { baseline: number; model: number; modelCpu: number; e2e: number; load: number }[] = [];
const totalOps = workloads.reduce((n, w) => n + w.n, 0);
for (let round = 0; round < ROUNDS; round++) {
  let tb = 0;
  let tm = 0;
  let te = 0;
  let tmc = 0;
  workloads.forEach((w, k) => {
    for (let i = 0; i < 2; i++) {
      w.baseline();
      w.model();
      w.e2e();
    }
    const b: number[] = [];
    const m: number[] = [];
    const e: number[] = [];
    const mc: number[] = [];
    for (let i = 0; i < REPS; i++) {
      b.push(time(w.baseline));
      const c0 = cpu.ns;
      m.push(time(w.model));
      mc.push(cpu.ns - c0);
      e.push(time(w.e2e));
    }
    const t = times[k] as (typeof times)[number];
    t.b.push(...b);
    t.m.push(...m);
    t.e.push(...e);
    tb += median(b);
    tm += median(m);
    tmc += median(mc);
    te += median(e);
  });
  rounds.push({ baseline: tb, model: tm, modelCpu: tmc, e2e: te, load: os.loadavg()[0] as number });
}

const rows: string[][] = workloads.map((w, k) => {
  const t = times[k] as (typeof times)[number];
  const b = median(t.b) / w.n;
  const m = median(t.m) / w.n;
  const e = median(t.e) / w.n;
  return [
    w.name,
    String(w.n),
    b.toFixed(0),
    m.toFixed(0),
    (1e9 / m / 1e6).toFixed(2),
    (m / b).toFixed(2),
    e.toFixed(0),
    (1e9 / e / 1e6).toFixed(2),
    (e / b).toFixed(2),
  ];
});

const head = [
  'workload',
  'ops',
  'JSON.parse ns/op',
  'model ns/op',
  'model Mops/s',
  'model / JSON.parse',
  'end-to-end ns/op',
  'e2e Mops/s',
  'e2e / JSON.parse',
];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
console.log(
  `replay throughput, medians of ${REPS} alternating runs x ${ROUNDS} rounds (node ${process.version}, ${os.cpus().length} CPUs)`,
);
console.log(fmt(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(fmt(r));
const mops = (ns: number) => (totalOps / (ns / 1e9) / 1e6).toFixed(2);
rounds.forEach((r, i) => {
  console.log(
    `round ${i + 1}: model ${mops(r.model)} Mops/s (${(r.model / totalOps).toFixed(0)} ns/op; by CPU time ${mops(r.modelCpu)} Mops/s), end to end ${mops(r.e2e)} Mops/s, JSON.parse ${mops(r.baseline)} Mops/s; model / JSON.parse ${(r.model / r.baseline).toFixed(2)}; load average ${r.load.toFixed(2)}`,
  );
});
const mm = median(rounds.map((r) => r.model));
const me = median(rounds.map((r) => r.e2e));
const mb = median(rounds.map((r) => r.baseline));
const mc = median(rounds.map((r) => r.modelCpu));
console.log(
  `median of ${ROUNDS} rounds, all workloads (${totalOps} ops): model ${(mm / totalOps).toFixed(0)} ns/op = ${mops(mm)} Mops/s (goal >= 2); end to end ${mops(me)} Mops/s; JSON.parse baseline ${mops(mb)} Mops/s (model / JSON.parse ${(mm / mb).toFixed(2)})`,
);
// on a loaded machine the wall clock counts the time other processes had the CPU; the CPU time
// is what the replay itself costs
console.log(
  `model by CPU time: ${(mc / totalOps).toFixed(0)} ns/op = ${mops(mc)} Mops/s (load average ${rounds.map((r) => r.load.toFixed(1)).join(', ')})`,
);
if (sink === 42) console.log('');
