/**
 * Fuzzing every input kind through the CLI (issue 15): kernel traces (ftrace text of the real 6.1
 * runs, synthetic dma:* traces), kernel logs, tar and gzip containers, scenarios, replay files,
 * driver C with annotations, and `pool --cmdline`. Inputs are damaged or made up by fast-check
 * (seeded), run in-process in one batch (cli-batch.ts), and every run must:
 *   - exit 0 or 2 (bad input), never 70 (a crash);
 *   - print no byte below 0x20 but newline and tab, no DEL and no C1 control, in text mode;
 *   - print valid JSON (or nothing) with --json;
 *   - finish each case within CASE_MS and keep the batch's peak RSS below MAX_RSS_MB. Both are
 *     bounds for runaways (a hang, memory that grows with the input), far above what a case
 *     needs on a loaded 2-CPU machine; they are not a measure of speed.
 *
 * FUZZ_RUNS=N sets the cases per input kind (default 6: well under a minute in all), FUZZ_SEED the
 * seed (default 15). A failing case is kept on disk and its path printed, with the seed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { synthDmaTrace, synthDmesg } from '../../scripts/synthTrace';
import { type CliLost, type CliResult, controlBytes, runCliBatch } from './cli-batch';
import { tarHeader, tarMember } from './tar-helpers';

const RUNS = Number(process.env.FUZZ_RUNS ?? 6);
const SEED = Number(process.env.FUZZ_SEED ?? 15);
/** A case that runs longer is a hang. */
const CASE_MS = 60_000;
/** The batch process's peak RSS: what a runaway would pass, not what a case needs (~200 MB). */
const MAX_RSS_MB = 1536;

const ROOT = path.join(__dirname, '..', '..');
const FIX = path.join(ROOT, 'test', 'fixtures');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-'));
let serial = 0;
const write = (name: string, data: string | Buffer) => {
  const p = path.join(tmp, `${serial++}-${name}`);
  fs.writeFileSync(p, data);
  return p;
};

const TRACE = gunzipSync(fs.readFileSync(path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2', 'trace.txt.gz')))
  .toString('latin1')
  .split('\n')
  .slice(0, 600);
const DMESG = gunzipSync(fs.readFileSync(path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2', 'dmesg.txt.gz')))
  .toString('latin1')
  .split('\n');
const LOGS = fs
  .readdirSync(path.join(FIX, 'logs'))
  .filter((f) => f.endsWith('.log'))
  .flatMap((f) => fs.readFileSync(path.join(FIX, 'logs', f), 'latin1').split('\n'));
const SYNTH: string[] = [];
const SYNTH_OPTS = {
  seed: 3,
  profile: 'mainline',
  base: 0xbbfdb000,
  nslabs: 1024,
  nareas: 2,
  cpus: 2,
  devices: [{ name: '0000:00:03.0', driver: 'nvme', minAlign: 0xfff, dmaMask: 2 ** 64, forced: true, maxSize: 65536, sgShare: 0.3 }],
  lines: 500,
  live: 20,
  sgCounts: true,
} as const;
synthDmaTrace(SYNTH_OPTS, (l) => SYNTH.push(l));
const SYNTH_DMESG = synthDmesg(SYNTH_OPTS);

/** Text an attacker would pick: terminal controls, huge and odd numbers, format characters. */
const HOSTILE = [
  '\u001b]0;pwned\u0007\u001b[2J',
  '\u009b31m',
  '\u007f\u0000\r',
  '18446744073709551615',
  '9007199254740993',
  '99999999999999999999',
  '0x10000000000000000',
  '-1',
  '1e400',
  'NaN',
  '%s%n%x',
  '{{{{[[[[',
  '\u202e\u2028',
  'ÿ\u00ff\ufffd',
  ' ',
  '',
];

const hostile = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.integer({ min: -(2 ** 31), max: 2 ** 53 }).map(String),
);

/** Damage to lines: flips, cuts, hostile text dropped in, numbers replaced, lines doubled, dropped or made huge. */
const damage = (lines: readonly string[]) =>
  fc
    .array(
      fc.record({
        line: fc.nat(),
        at: fc.nat(300),
        kind: fc.constantFrom('flip', 'cut', 'insert', 'number', 'dup', 'drop', 'long'),
        byte: fc.integer({ min: 0, max: 255 }),
        text: hostile,
      }),
      { minLength: 1, maxLength: 25 },
    )
    .map((edits) => {
      const out = [...lines];
      for (const e of edits) {
        if (out.length === 0) break;
        const i = e.line % out.length;
        const l = out[i] as string;
        const at = e.at % (l.length + 1);
        switch (e.kind) {
          case 'flip':
            out[i] = l.slice(0, at) + String.fromCharCode(e.byte) + l.slice(at + 1);
            break;
          case 'cut':
            out[i] = l.slice(0, at);
            break;
          case 'insert':
            out[i] = l.slice(0, at) + e.text + l.slice(at);
            break;
          case 'number':
            out[i] = l.replace(/(0x)?[0-9a-f]{2,}/, e.text);
            break;
          case 'dup':
            out.splice(i, 0, ...Array.from({ length: 1 + (e.byte % 50) }, () => l));
            break;
          case 'drop':
            out.splice(i, 1 + (e.byte % 20));
            break;
          case 'long':
            out[i] = l + e.text.repeat(1 + e.byte * 40);
            break;
        }
      }
      return out;
    });

const text = (lines: readonly string[]) => Buffer.from(`${lines.join('\n')}\n`, 'latin1');

const traceArb = fc.oneof(damage(TRACE), damage(SYNTH), damage([...TRACE.slice(0, 12), ...SYNTH.slice(0, 200)]));
const logArb = fc.oneof(damage(LOGS), damage(DMESG), damage(SYNTH_DMESG));

const containerArb = fc
  .record({
    trace: traceArb,
    log: logArb,
    longName: fc.option(fc.tuple(fc.nat(3000), fc.constantFrom('L', 'x')), { nil: undefined }),
    claim: fc.option(fc.constantFrom(2 ** 20 + 1, 2 ** 33, 300 * 2 ** 20), { nil: undefined }),
    cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    junk: fc.option(fc.uint8Array({ maxLength: 2000 }), { nil: undefined }),
    gzip: fc.constantFrom('none', 'tar.gz', 'member', 'members'),
    // where the trace is split into gzip members ('members'), and how many small members a tar adds
    splits: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
    extra: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 400 }) }),
  })
  .map((c) => {
    const parts: Buffer[] = [];
    if (c.longName) {
      const [n, type] = c.longName;
      const record =
        type === 'L' ? Buffer.from(`${'d/'.repeat(n)}trace.txt\0`) : Buffer.from(`${n + 20} path=${'p'.repeat(n)}/trace.txt\n`);
      parts.push(tarMember('././@LongLink', record, type));
    }
    if (c.claim) parts.push(tarHeader('././@LongLink', c.claim, 'L'));
    parts.push(tarMember('capture/trace.txt', text(c.trace)), tarMember('capture/dmesg.txt', text(c.log)));
    // many small members after the two (each read once, from its offset)
    for (let i = 0; i < c.extra; i++) parts.push(tarMember(`capture/more/t${i}.txt`, text(c.trace.slice(i % 7, (i % 7) + 2))));
    parts.push(Buffer.alloc(1024));
    let bytes = Buffer.concat(parts);
    if (c.gzip === 'member')
      return { name: 'trace.txt.gz', data: cut(Buffer.concat([gzipSync(text(c.trace)), Buffer.from(c.junk ?? [])]), c.cut) };
    if (c.gzip === 'members') {
      // the trace in several gzip members (as `cat a.gz b.gz` makes), maybe with trailing junk
      const t = text(c.trace);
      const at = [0, ...c.splits.map((x) => Math.floor(x * t.length)).sort((a, b) => a - b), t.length];
      const members = at.slice(1).map((end, i) => gzipSync(t.subarray(at[i] as number, end)));
      return { name: 'trace.txt.gz', data: cut(Buffer.concat([...members, Buffer.from(c.junk ?? [])]), c.cut) };
    }
    if (c.gzip === 'tar.gz') bytes = gzipSync(bytes);
    return {
      name: c.gzip === 'tar.gz' ? 'capture.tar.gz' : 'capture.tar',
      data: cut(Buffer.concat([bytes, Buffer.from(c.junk ?? [])]), c.cut),
    };
  });

function cut(b: Buffer, at: number | undefined): Buffer {
  return at === undefined ? b : b.subarray(0, Math.floor(b.length * at));
}

const PLATFORMS = [
  'x86',
  'arm64',
  'arm64-noncoherent',
  'sev-guest',
  'tdx-guest',
  'cca-realm',
  'iommu-untrusted',
  'xen-pv-dom0',
  'xen-pvh',
  'xen-arm64',
];
const CALLS = [
  'dma_map_single',
  'dma_map_page',
  'dma_unmap_single',
  'dma_sync_single_for_cpu',
  'dma_map_sg',
  'dma_unmap_sg',
  'dma_alloc_coherent',
  'dma_free_coherent',
  'dma_map_resource',
];

/** Mostly a sound value, now and then a hostile one: the run gets past the parser and into the model. */
const mostly = <T>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 24, arbitrary: good }, { weight: 1, arbitrary: hostile });
const BAD_NUMBERS = [2 ** 53 + 2, 1e12, -5, 0.5, '99999999999999999999', '0xffffffffffffffff', 0];
const num = (lo: number, hi: number) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: lo, max: hi }) },
    { weight: 4, arbitrary: fc.integer({ min: lo, max: hi }).map((n) => `0x${n.toString(16)}`) },
    { weight: 1, arbitrary: fc.constantFrom(...BAD_NUMBERS) },
    { weight: 1, arbitrary: hostile },
  );
const phys = num(0x1000, 2 ** 36);
const size = fc.oneof({ weight: 9, arbitrary: num(1, 300_000) }, { weight: 1, arbitrary: fc.constantFrom('64K', '2M', '1522') });
const count = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 1, max: 300 }) },
  { weight: 1, arbitrary: fc.constantFrom(1e7, 1e12, 2 ** 53) },
);
const ID = ['a', 'b', 'c'];

const step: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  step: fc.oneof({ weight: 5, arbitrary: tie('call') }, { weight: 2, arbitrary: tie('ring') }, { weight: 1, arbitrary: tie('repeat') }),
  call: fc.record(
    {
      call: fc.constantFrom(...CALLS),
      device: fc.oneof({ weight: 9, arbitrary: fc.constantFrom('nic', 'nvme') }, { weight: 1, arbitrary: fc.constant('nope') }),
      id: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...ID) }, { weight: 1, arbitrary: hostile }),
      phys,
      size,
      dir: mostly(fc.constantFrom('DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DMA_BIDIRECTIONAL')),
      sg: fc.array(fc.record({ phys, size }), { minLength: 1, maxLength: 3 }),
    },
    { requiredKeys: ['call', 'device', 'id', 'phys', 'size', 'dir'] },
  ),
  ring: fc.record({
    ring: fc.record(
      {
        device: fc.constantFrom('nic', 'nvme'),
        depth: count,
        count,
        size: fc.oneof(size, fc.record({ uniform: fc.tuple(num(1, 2000), num(2000, 70000)) })),
        phys: fc.oneof(
          fc.record({ start: phys }),
          fc.record({ ranges: fc.array(fc.tuple(num(0x1000, 2 ** 32), num(2 ** 32, 2 ** 36)), { minLength: 1, maxLength: 2 }) }),
        ),
        dir: fc.constantFrom('DMA_TO_DEVICE', 'DMA_FROM_DEVICE'),
        cpus: fc.array(mostly(fc.nat(64)), { minLength: 1, maxLength: 3 }),
        sync: fc.constantFrom('none', 'cpu', 'both'),
        seed: fc.nat(),
      },
      { requiredKeys: ['device', 'depth', 'count', 'size', 'phys', 'dir'] },
    ),
  }),
  repeat: fc.record({ repeat: count, steps: fc.array(tie('step'), { maxLength: 3 }) }),
})).step as fc.Arbitrary<unknown>;

const OPENS = new Set(['dma_map_single', 'dma_map_page', 'dma_map_sg', 'dma_alloc_coherent', 'dma_map_resource']);

/** Calls that release or sync refer to a mapping made before (mostly): the run gets past the parser. */
function soundIds(steps: unknown[]): unknown[] {
  const open: string[] = [];
  let n = 0;
  const fix = (list: unknown[]): unknown[] =>
    list.map((x) => {
      const st = x as { call?: string; id?: unknown; steps?: unknown[] };
      if (st.steps) return { ...st, steps: fix(st.steps) };
      if (!st.call || n++ % 13 === 12) return st;
      if (OPENS.has(st.call) || open.length === 0) {
        const id = `m${n}`;
        open.push(id);
        return { ...st, call: OPENS.has(st.call) ? st.call : 'dma_map_single', id };
      }
      const id = open[n % open.length] as string;
      if (/unmap|free/.test(st.call)) open.splice(open.indexOf(id), 1);
      return { ...st, id };
    });
  return fix(steps);
}

const scenarioArb = fc
  .record({
    platform: mostly(fc.constantFrom(...PLATFORMS)),
    kernel: fc.constantFrom('6.1', '6.12', 'mainline', '5.10', '6.1.50', '6.6-early', '9.9'),
    machine: fc.record(
      { cpus: mostly(fc.integer({ min: 1, max: 64 })), ram: fc.constantFrom('16G', '2G', '1T', '64G') },
      { requiredKeys: [] },
    ),
    pool: fc.oneof(
      fc.record({
        cmdline: fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom('swiotlb=65536,force', 'swiotlb=4096,4', 'swiotlb=noforce', 'swiotlb=512') },
          { weight: 1, arbitrary: hostile.map((h) => `swiotlb=${h},force`) },
        ),
      }),
      fc.record({ nslabs: num(128, 1 << 20), nareas: fc.constantFrom(1, 2, 4, 3) }, { requiredKeys: ['nslabs'] }),
    ),
    devices: fc.constant([
      { id: 'nic', name: '0000:03:00.0', dma_mask: 32 },
      { id: 'nvme', name: '0000:04:00.0', dma_mask: 64, min_align_mask: '0xfff' },
    ]),
    workload: fc.array(step, { maxLength: 6 }).map(soundIds),
    mutate: fc.constantFrom('none', 'none', 'none', 'none', 'dup', 'deep', 'cut', 'comment'),
    depth: fc.integer({ min: 60, max: 20000 }),
  })
  .map(({ mutate, depth, ...s }) => {
    let t = JSON.stringify(s, null, 1);
    if (mutate === 'dup') t = t.replace('"kernel"', '"kernel": "6.12", "kernel"');
    if (mutate === 'deep') t = t.replace('"workload": [', `"workload": [${'['.repeat(depth)}${']'.repeat(depth)},`);
    if (mutate === 'cut') t = t.slice(0, Math.floor(t.length / 2));
    if (mutate === 'comment') t = `// a scenario\n/* ${'*'.repeat(depth)} */\n${t}`;
    return t;
  });

const replayArb = fc
  .record({
    header: fc.record(
      {
        op: fc.constant('init'),
        nslabs: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(256, 1024, 32768) }, { weight: 1, arbitrary: num(1, 2 ** 32) }),
        nareas: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(1, 2, 4) }, { weight: 1, arbitrary: num(1, 2 ** 20) }),
        pool_base: fc.oneof({ weight: 12, arbitrary: fc.constant('0x80000000') }, { weight: 1, arbitrary: num(0, 2 ** 40) }),
        kernel: fc.constantFrom('6.1', 'mainline', '5.10', '6.6-early', 'x'),
      },
      { requiredKeys: ['op', 'nslabs', 'nareas', 'pool_base'] },
    ),
    ops: fc.array(
      fc.record(
        {
          op: fc.oneof(
            { weight: 20, arbitrary: fc.constantFrom('map', 'unmap', 'alloc', 'sync_for_cpu', 'sync_for_device') },
            { weight: 1, arbitrary: fc.constant('bogus') },
          ),
          id: fc.oneof({ weight: 12, arbitrary: fc.nat(5) }, { weight: 1, arbitrary: hostile }),
          cpu: mostly(fc.nat(8)),
          orig: mostly(fc.integer({ min: 1, max: 2 ** 36 }).map((n) => `0x${n.toString(16)}`)),
          size: mostly(fc.integer({ min: 1, max: 300_000 })),
          align: fc.constantFrom(0, '0xfff', '0x7ff'),
          min_align: fc.constantFrom(0, '0xfff'),
          dir: mostly(fc.constantFrom('TO_DEVICE', 'FROM_DEVICE', 'BIDIRECTIONAL')),
          dev: mostly(fc.constantFrom('nvme0', 'ahci')),
          observed_index: fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat(40000) }),
        },
        { requiredKeys: ['op', 'id', 'cpu', 'orig', 'size'] },
      ),
      { maxLength: 80 },
    ),
    deep: fc.option(fc.integer({ min: 10, max: 50000 }), { nil: undefined, freq: 8 }),
  })
  .map(({ header, ops, deep }) => {
    // mostly a sound sequence: an unmap or sync of a live id, a map of a new one
    const live: unknown[] = [];
    let next = 100;
    const sound = ops.map((o, k) => {
      if (k % 17 === 16) return o;
      if (o.op === 'map' || o.op === 'alloc' || live.length === 0) {
        const id = next++;
        live.push(id);
        return { ...o, op: o.op === 'alloc' ? 'alloc' : 'map', id };
      }
      const id = live[o.cpu === undefined ? 0 : Number(o.cpu) % live.length];
      if (o.op === 'unmap') live.splice(live.indexOf(id), 1);
      return { ...o, id };
    });
    const lines = [JSON.stringify(header), ...sound.map((o) => JSON.stringify(o))];
    if (deep && lines.length > 1) lines[1] = (lines[1] as string).replace('"id":', `"x":${'['.repeat(deep)}${']'.repeat(deep)},"id":`);
    return `${lines.join('\n')}\n`;
  });

const ANN_KEYS = [
  'size',
  'depth',
  'count',
  'where',
  'align',
  'sg',
  'dir',
  'cpu',
  'device',
  'dma_mask',
  'min_align_mask',
  'platform',
  'kernel',
  'ram',
  'cpus',
  'cmdline',
  'pool',
  'bogus',
];
const ANN_VALUES = [
  '64..1522',
  '4G..8G',
  'low:1,high:3',
  '"swiotlb=99999999999999999999"',
  '"swiotlb=65536,force"',
  '0-4095',
  '32',
  '0xfff',
  '256',
  '16G',
  'xen-pv-dom0',
  '6.12',
  'high',
];
const annotation = fc
  .tuple(
    fc.constantFrom('swiotlb:', 'swiotlb:', 'swiotlb-function:', 'swiotlb-file:', 'swiotlb-bogus:'),
    fc.array(
      fc.tuple(
        fc.constantFrom(...ANN_KEYS),
        fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...ANN_VALUES) }, { weight: 1, arbitrary: hostile }),
      ),
      { maxLength: 6 },
    ),
    fc.nat(3000),
  )
  .map(
    ([scope, pairs, repeat]) =>
      `/* ${scope} ${pairs
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')
        .repeat(1 + (repeat > 2900 ? 500 : 0))} */`,
  );
const cArb = fc
  .record({
    annotations: fc.array(annotation, { maxLength: 6 }),
    calls: fc.array(
      fc.tuple(
        fc.constantFrom(
          'dma_map_single',
          'dma_unmap_single',
          'dma_map_sg',
          'dma_set_mask',
          'dma_alloc_coherent',
          'pci_map_single',
          'dma_sync_single_for_cpu',
        ),
        fc.oneof(num(1, 300_000).map(String), fc.constantFrom('FOO_SIZE', 'sizeof(struct x)', 'skb->len')),
      ),
      { maxLength: 8 },
    ),
    copies: fc.constantFrom(1, 1, 1, 300),
    garbage: fc.option(hostile, { nil: undefined }),
  })
  .map((c) => {
    const body = c.calls
      .map(([f, size], i) => `${c.annotations[i] ?? ''}\n\tbuf->dma${i % 3} = ${f}(&pdev->dev, p, ${size}, DMA_FROM_DEVICE);`)
      .join('\n');
    const fn = (k: number) => `static int f${k}(struct pci_dev *pdev, void *p)\n{\n${body}\n${c.garbage ?? ''}\n\treturn 0;\n}\n`;
    return `#define FOO_SIZE 2048\n${c.annotations.at(-1) ?? ''}\nstruct x { int a[${c.garbage ? 8 : 4}]; };\n${Array.from({ length: c.copies }, (_, k) => fn(k)).join('')}`;
  });

const cmdlineArb = fc
  .tuple(
    fc.oneof(fc.constantFrom('65536', '0x8000,4', '0777,force', '1,,noforce', '9007199254740992', '99999999'), hostile),
    fc.constantFrom('', ',force', ',4,force'),
    fc.option(hostile, { nil: undefined }),
  )
  .map(([a, b, c]) => `swiotlb=${a}${b}${c ? ` ${c}` : ''}`);

interface Case {
  readonly kind: string;
  readonly args: string[];
  readonly json: boolean;
}

function cases(): Case[] {
  const out: Case[] = [];
  const sample = <T>(arb: fc.Arbitrary<T>, seedOffset: number) => fc.sample(arb, { seed: SEED + seedOffset, numRuns: RUNS });
  sample(traceArb, 1).forEach((lines, i) => {
    const f = write('trace.txt', text(lines));
    out.push({ kind: 'trace', args: ['analyze', f, ...(i % 2 ? ['--json'] : [])], json: i % 2 === 1 });
  });
  sample(logArb, 2).forEach((lines, i) => {
    const f = write('dmesg.log', text(lines));
    out.push({ kind: 'log', args: ['analyze', f, ...(i % 2 ? [] : ['--json'])], json: i % 2 === 0 });
  });
  sample(containerArb, 3).forEach((c, i) => {
    const f = write(c.name, c.data);
    out.push({ kind: 'container', args: ['analyze', f, ...(i % 2 ? ['--json'] : [])], json: i % 2 === 1 });
  });
  sample(scenarioArb, 4).forEach((s, i) => {
    const f = write('s.swiotlb.json', s);
    out.push({
      kind: 'scenario',
      args: ['analyze', f, ...(i % 2 ? ['--json'] : []), ...(i % 3 === 2 ? ['--compare'] : [])],
      json: i % 2 === 1,
    });
  });
  sample(replayArb, 5).forEach((r, i) => {
    const f = write('ops.jsonl', r);
    const mode = [[], ['--summary'], ['--summary', '--json'], ['--check']][i % 4] as string[];
    out.push({ kind: 'replay', args: ['replay', f, ...mode], json: mode.includes('--json') });
  });
  sample(cArb, 6).forEach((c, i) => {
    const f = write('drv.c', c);
    out.push({ kind: 'c', args: ['analyze', f, ...(i % 2 ? ['--json'] : [])], json: i % 2 === 1 });
  });
  sample(cmdlineArb, 7).forEach((c, i) => {
    out.push({ kind: 'pool', args: ['pool', '--cmdline', c, '--ram', '16G', ...(i % 2 ? ['--json'] : [])], json: i % 2 === 1 });
  });
  return out;
}

describe(`fuzz: every input kind through the CLI (${RUNS} cases each, seed ${SEED})`, () => {
  test('exit 0 or 2, no control bytes in text, valid JSON, bounded time and memory', async () => {
    const all = cases();
    const results = await runCliBatch(
      all.map((c) => c.args),
      { caseTimeoutMs: CASE_MS },
    );
    const problems: string[] = [];
    results.forEach((res: CliResult | CliLost, i) => {
      const c = all[i] as Case;
      const say = (what: string) => problems.push(`${c.kind} [${c.args.join(' ')}] (seed ${SEED}): ${what}`);
      if ('lost' in res) {
        say(res.lost);
        return;
      }
      const r = res;
      // --check reports mismatches with exit 1
      const allowed = c.args.includes('--check') ? [0, 1, 2] : [0, 2];
      if (!allowed.includes(r.code)) say(`exit ${r.code}: ${r.err.toString('utf8').slice(0, 600)}`);
      const bad = controlBytes(Buffer.concat([r.out, r.err]));
      if (bad.length)
        say(
          `control bytes at ${bad.slice(0, 5).join(', ')}: ${JSON.stringify(
            Buffer.concat([r.out, r.err])
              .toString('latin1')
              .slice(Math.max(0, (bad[0] as number) - 40), (bad[0] as number) + 40),
          )}`,
        );
      if (c.json && r.out.length) {
        try {
          JSON.parse(r.out.toString('utf8'));
        } catch (e) {
          say(`invalid JSON: ${(e as Error).message}`);
        }
      }
      if (r.ms > CASE_MS) say(`${Math.round(r.ms)} ms`);
    });
    const peakMb = Math.max(...results.map((r) => ('lost' in r ? 0 : r.maxRssKb))) / 1024;
    if (peakMb > MAX_RSS_MB) problems.push(`peak RSS ${Math.round(peakMb)} MB after ${results.length} cases`);
    assert.deepEqual(problems, [], `inputs kept in ${tmp}`);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});
