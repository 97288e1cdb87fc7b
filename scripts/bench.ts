/**
 * `npm run bench`: replay throughput on the largest golden workloads.
 * For each workload, in one process, alternating repetitions:
 *   - baseline: JSON.parse of every op line (the least any JSON Lines replay must do),
 *   - model: Replayer.apply over pre-parsed ops (the allocator and its bookkeeping),
 *   - end to end: parse + validate + replay + format the output line (what `replay` does per line).
 * Medians are reported with ns/op, ops/s and the ratio to the baseline.
 */
import fs from 'node:fs';
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function time(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0);
}

let sink = 0;
const rows: string[][] = [];
let totalOps = 0;
let totalModelNs = 0;
let totalE2eNs = 0;
for (const w of WORKLOADS) {
  const text = gunzipSync(fs.readFileSync(path.join(FIX, `${w}.jsonl.gz`))).toString('utf8');
  const lines = text.split('\n').filter((l) => l.length > 0);
  const header = parseHeader(parseJsonLine(lines[0] as string, 1), 1);
  const profile = resolveProfile(header.kernel ?? '6.1');
  const body = lines.slice(1);
  const ops: ReplayOp[] = body.map((l, i) => parseOp(parseJsonLine(l, i + 2), header, i + 2));
  const baseline = () => {
    for (const l of body) sink += (JSON.parse(l) as { id: number }).id;
  };
  const model = () => {
    const r = new Replayer(header, profile);
    for (const op of ops) sink += r.apply(op).json.length;
  };
  const e2e = () => {
    const r = new Replayer(header, profile);
    for (let i = 0; i < body.length; i++) {
      const op = parseOp(parseJsonLine(body[i] as string, i + 2), header, i + 2);
      sink += r.apply(op).json.length;
    }
  };
  for (let i = 0; i < 2; i++) {
    baseline();
    model();
    e2e();
  }
  const tb: number[] = [];
  const tm: number[] = [];
  const te: number[] = [];
  for (let i = 0; i < REPS; i++) {
    tb.push(time(baseline));
    tm.push(time(model));
    te.push(time(e2e));
  }
  const n = ops.length;
  const b = median(tb) / n;
  const m = median(tm) / n;
  const e = median(te) / n;
  totalOps += n;
  totalModelNs += median(tm);
  totalE2eNs += median(te);
  rows.push([
    w,
    String(n),
    b.toFixed(0),
    m.toFixed(0),
    (1e9 / m / 1e6).toFixed(2),
    (m / b).toFixed(2),
    e.toFixed(0),
    (1e9 / e / 1e6).toFixed(2),
    (e / b).toFixed(2),
  ]);
}

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
console.log(`replay throughput, median of ${REPS} alternating runs (node ${process.version})`);
console.log(fmt(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(fmt(r));
console.log(
  `all workloads: ${totalOps} ops, model ${(totalModelNs / totalOps).toFixed(0)} ns/op = ${(totalOps / (totalModelNs / 1e9) / 1e6).toFixed(2)} Mops/s; end to end ${(totalE2eNs / totalOps).toFixed(0)} ns/op = ${(totalOps / (totalE2eNs / 1e9) / 1e6).toFixed(2)} Mops/s`,
);
if (sink === 42) console.log('');
