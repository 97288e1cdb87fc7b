/**
 * `npm run bench:ingest`: how fast `analyze --json` reads a large dma:* trace, against a one-pass
 * mawk script computing bounce-slot occupancy from the same file (scripts/bench/occupancy.awk).
 *
 * 1. Generates (deterministically, from the model; cached in $TMPDIR/swiotlb-lens-bench) a
 *    ~1 GB dma:* trace of 6.12+ events with its boot log: a 64 MiB pool, 4 areas, an NVMe-like
 *    device with min_align_mask 0xfff in a confidential guest (every map bounces) and a 32-bit
 *    device that bounces buffers above 4 GiB, scatterlists and single maps.
 * 2. Installs mawk with apt-get when it is missing (as root).
 * 3. Runs the tools alternately (BENCH_REPS times each, default 3): `analyze --json` as shipped
 *    (on 2-3 CPUs a parse worker beside the replay while the load leaves a CPU idle), the same
 *    with SWIOTLB_LENS_PARSE_WORKERS=0 (one thread) and =1 (a parse worker), and mawk; checks they agree with each other and with
 *    the generator's truth, and prints the medians, their ratios, the CLI's peak RSS and the
 *    machine's load average (the runs share the machine with whatever else runs).
 * Options: BENCH_BYTES (default 1e9), BENCH_REPS, BENCH_DIR; `--generate-only` stops after step 1.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type SynthOptions, type SynthTruth, synthDmaTrace, synthDmesg } from './synthTrace';

const BYTES = Number(process.env.BENCH_BYTES ?? 1e9);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const DIR = process.env.BENCH_DIR ?? path.join(os.tmpdir(), 'swiotlb-lens-bench');
const ROOT = path.join(__dirname, '..');

const OPTIONS: SynthOptions = {
  seed: 20240613,
  profile: 'mainline',
  base: 0xbbfdb000,
  nslabs: 32768,
  nareas: 4,
  cpus: 4,
  devices: [
    { name: '0000:00:03.0', driver: 'nvme', minAlign: 0xfff, dmaMask: 2 ** 64, forced: true, maxSize: 131072, sgShare: 0.25 },
    { name: '0000:00:04.0', driver: 'ahci', minAlign: 0, dmaMask: 0xffffffff, forced: false, maxSize: 65536, sgShare: 0.25 },
  ],
  lines: Number.POSITIVE_INFINITY,
  bytes: BYTES,
  live: 64,
  sgCounts: true,
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
}

function generate(): SynthTruth {
  const key = JSON.stringify(OPTIONS);
  const meta = path.join(DIR, 'meta.json');
  if (fs.existsSync(meta)) {
    const m = JSON.parse(fs.readFileSync(meta, 'utf8')) as { key: string; truth: SynthTruth };
    if (m.key === key && fs.existsSync(path.join(DIR, 'capture', 'trace.txt'))) return m.truth;
  }
  fs.rmSync(DIR, { recursive: true, force: true });
  fs.mkdirSync(path.join(DIR, 'capture'), { recursive: true });
  console.log(`generating a ${(BYTES / 1e9).toFixed(2)} GB dma:* trace in ${DIR} ...`);
  const t0 = Date.now();
  const fd = fs.openSync(path.join(DIR, 'capture', 'trace.txt'), 'w');
  let buf: string[] = [];
  let n = 0;
  const truth = synthDmaTrace(OPTIONS, (line) => {
    buf.push(line);
    n += line.length + 1;
    if (n > 4 << 20) {
      fs.writeSync(fd, `${buf.join('\n')}\n`);
      buf = [];
      n = 0;
    }
  });
  fs.writeSync(fd, buf.length ? `${buf.join('\n')}\n` : '');
  fs.closeSync(fd);
  fs.writeFileSync(path.join(DIR, 'capture', 'dmesg.txt'), `${synthDmesg(OPTIONS).join('\n')}\n`);
  fs.writeFileSync(meta, JSON.stringify({ key, truth }));
  console.log(`  ${truth.lines} lines, ${(truth.bytes / 1e9).toFixed(3)} GB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return truth;
}

function ensureMawk(): string {
  const has = spawnSync('sh', ['-c', 'command -v mawk'], { encoding: 'utf8' });
  if (has.status === 0) return has.stdout.trim();
  if (process.getuid?.() !== 0) throw new Error('mawk is not installed: apt-get install mawk (as root)');
  console.log('installing mawk (apt-get) ...');
  execFileSync('apt-get', ['install', '-y', '-q', 'mawk'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return 'mawk';
}

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { ms: number; out: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, env });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { ms, out: r.stdout };
}

const truth = generate();
// `--generate-only`: the trace for another benchmark (bench:vscode opens it in a real VS Code)
if (process.argv.includes('--generate-only')) process.exit(0);
const mawk = ensureMawk();
const trace = path.join(DIR, 'capture', 'trace.txt');
const end = OPTIONS.base + OPTIONS.nslabs * 2048;
const hex = (n: number) => `0x${n.toString(16)}`;
const rssFile = path.join(DIR, 'rss.txt');
const cliArgs = [
  '--require',
  path.join(ROOT, 'scripts', 'bench', 'rss-hook.cjs'),
  path.join(ROOT, 'dist', 'cli.js'),
  'analyze',
  path.join(DIR, 'capture'),
  '--json',
];
const awkArgs = [
  '-v',
  `base=${hex(OPTIONS.base)}`,
  '-v',
  `end=${hex(end)}`,
  '-f',
  path.join(ROOT, 'scripts', 'bench', 'occupancy.awk'),
  trace,
];

console.log(
  `ingest benchmark: ${truth.lines} lines, ${(truth.bytes / 1e9).toFixed(3)} GB, ${REPS} alternating runs each (node ${process.version}, ${os.cpus().length} CPUs)`,
);
const tNode: number[] = [];
const tSeq: number[] = [];
const tPar: number[] = [];
const tAwk: number[] = [];
const rss: number[] = [];
const loads: number[] = [];
type Report = { occupancy: { peak_slots: number; final_slots: number }; counts: { maps: number; failed: number } };
const check = (who: string, report: Report) => {
  if (report.occupancy.peak_slots !== truth.peakSlots || report.counts.maps !== truth.maps) {
    throw new Error(
      `${who}: peak ${report.occupancy.peak_slots}, maps ${report.counts.maps}; truth peak ${truth.peakSlots}, maps ${truth.maps}`,
    );
  }
};
for (let i = 0; i < REPS; i++) {
  loads.push(os.loadavg()[0] as number);
  const a = timed(process.execPath, cliArgs, { ...process.env, SWIOTLB_BENCH_RSS: rssFile });
  tNode.push(a.ms);
  rss.push(Number(fs.readFileSync(rssFile, 'utf8')));
  check('analyze', JSON.parse(a.out) as Report);
  const s = timed(process.execPath, cliArgs, { ...process.env, SWIOTLB_LENS_PARSE_WORKERS: '0' });
  tSeq.push(s.ms);
  check('analyze (one thread)', JSON.parse(s.out) as Report);
  const w = timed(process.execPath, cliArgs, { ...process.env, SWIOTLB_LENS_PARSE_WORKERS: '1' });
  tPar.push(w.ms);
  check('analyze (a parse worker)', JSON.parse(w.out) as Report);
  const b = timed(mawk, awkArgs);
  tAwk.push(b.ms);
  const awkPeak = Number(/peak_slots (\d+)/.exec(b.out)?.[1]);
  const awkFinal = Number(/final_slots (\d+)/.exec(b.out)?.[1]);
  if (awkPeak !== truth.peakSlots || awkFinal !== truth.finalSlots) {
    throw new Error(`mawk peak ${awkPeak}/final ${awkFinal}, truth peak ${truth.peakSlots}/final ${truth.finalSlots}`);
  }
  console.log(
    `  run ${i + 1}: analyze ${(a.ms / 1000).toFixed(2)} s (peak RSS ${((rss[i] as number) / 2 ** 20).toFixed(0)} MiB), one thread ${(s.ms / 1000).toFixed(2)} s, with a parse worker ${(w.ms / 1000).toFixed(2)} s, mawk ${(b.ms / 1000).toFixed(2)} s (${(b.ms / a.ms).toFixed(2)}x); load average ${(loads[i] as number).toFixed(2)}`,
  );
}
loads.push(os.loadavg()[0] as number);
const mn = median(tNode);
const ms = median(tSeq);
const mp = median(tPar);
const ma = median(tAwk);
const mb = truth.bytes / 2 ** 20;
console.log(
  `median: analyze --json ${(mn / 1000).toFixed(2)} s (${(mb / (mn / 1000)).toFixed(0)} MiB/s), one thread ${(ms / 1000).toFixed(2)} s, with a parse worker ${(mp / 1000).toFixed(2)} s, mawk ${(ma / 1000).toFixed(2)} s (${(mb / (ma / 1000)).toFixed(0)} MiB/s)`,
);
console.log(
  `ratio: analyze is ${(ma / mn).toFixed(2)}x the speed of mawk (goal >= 3x, aim 5x; one thread ${(ma / ms).toFixed(2)}x, with a parse worker ${(ma / mp).toFixed(2)}x); the worker against one thread: ${(ms / mp).toFixed(2)}x; peak RSS ${(Math.max(...rss) / 2 ** 20).toFixed(0)} MiB (goal <= 400 MiB)`,
);
console.log(`load average over the runs: ${loads.map((l) => l.toFixed(2)).join(', ')} on ${os.cpus().length} CPUs`);
console.log(`all found peak occupancy ${truth.peakSlots} slots (the generator's truth)`);
