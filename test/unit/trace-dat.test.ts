/**
 * trace-cmd's trace.dat and perf script output as people record them: real captures of one
 * workload inside Linux 6.1.192 (kprobes) and 6.12.117 (dma:* events), each seen three ways in
 * one boot (tracefs text, `trace-cmd record`, `perf record` + `perf script`; see
 * test/fixtures/PROVENANCE.md), must give the same analysis; every record of the trace.dat prints
 * as the kernel printed it in tracefs; synthetic files cover the ring-buffer encodings and the
 * zlib compression the real ones lack; damaged files give diagnostics and keep what is intact.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { isTraceDat, type TraceDatInfo, traceDatText } from '../../src/io/traceDat';
import { EventLine, parseEventLine } from '../../src/trace/ftrace';
import { buildReport, type TextReport } from '../../src/trace/report';
import { analyzeText } from '../../src/trace/run';
import { type DatSpec, PAGE, page, payload, traceDat } from './traceDatWriter';

const FIX = path.join(__dirname, '..', 'fixtures', 'kernel-traces');
const RUNS = ['6.1-small-pool', '6.12-small-pool'] as const;
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'tracedat-'));

/** A fixture file, gunzipped into a temporary folder when it is vendored as .gz. */
function fixture(run: string, name: string): string {
  const plain = path.join(FIX, run, name);
  if (fs.existsSync(plain)) return plain;
  const out = path.join(TMP, `${run}-${name}`);
  if (!fs.existsSync(out)) fs.writeFileSync(out, gunzipSync(fs.readFileSync(`${plain}.gz`)));
  return out;
}

async function text(file: string): Promise<{ lines: string[]; diags: string[]; info: TraceDatInfo | null }> {
  const diags: string[] = [];
  let info: TraceDatInfo | null = null;
  const parts: Buffer[] = [];
  for await (const c of traceDatText(file, { onDiag: (m) => diags.push(m), onInfo: (i) => (info = i), blockBytes: 8 * PAGE }))
    parts.push(c);
  const s = Buffer.concat(parts).toString('latin1');
  return { lines: s === '' ? [] : s.replace(/\n$/, '').split('\n'), diags, info };
}

const reports = new Map<string, TextReport>();
async function analysis(run: string, trace: string): Promise<TextReport> {
  const key = `${run}/${trace}`;
  let r = reports.get(key);
  if (!r) {
    r = buildReport(await analyzeText([fixture(run, trace), fixture(run, 'dmesg.txt'), fixture(run, 'cmdline.txt')], { noSizing: true }));
    reports.set(key, r);
  }
  return r;
}

/** What must not change between two ways of recording the same events. */
function books(r: TextReport) {
  return {
    kind: r.input.kind,
    events: r.input.events,
    clock: r.input.clock,
    kernel: r.kernel.profile,
    pool: [r.pool.base, r.pool.nslabs, r.pool.nareas],
    maps: r.counts.maps,
    unmaps: r.counts.unmaps,
    failed: r.counts.failed,
    bounced: r.counts.bounced,
    byCause: r.failures.by_cause,
    peak: r.occupancy.peak_slots,
    peakArea: r.occupancy.peak_area_slots,
    liveAtEnd: r.occupancy.live_at_end,
    compared: r.check.compared,
    matched: r.check.matched,
    devices: r.devices.map((d) => [d.name, d.maps, d.bounced, d.failed, d.unmaps, d.peak_live_slots]),
    diagnostics: r.diagnostics.length,
  };
}

describe('real captures: one workload seen as tracefs text, trace.dat and perf script', () => {
  for (const run of RUNS) {
    test(`${run}: trace.dat (v7 zstd), trace.dat converted to v6, and two perf script layouts give the text's analysis`, async () => {
      const ref = books(await analysis(run, 'trace.txt'));
      assert.ok(
        ref.maps > 1000 && ref.failed > 0 && ref.compared > 1000,
        `a capture with maps, failures and placements: ${JSON.stringify(ref)}`,
      );
      assert.equal(ref.diagnostics, 0);
      const perf = fs.readdirSync(path.join(FIX, run)).filter((f) => f.startsWith('perf-script'));
      assert.equal(perf.length, 2);
      for (const other of ['trace.dat', 'trace-v6.dat', ...perf.map((f) => f.replace(/\.gz$/, ''))]) {
        // perf stamps samples with its own clock (seconds), whatever the trace clock was
        const clock = other.startsWith('perf') ? 'seconds' : ref.clock;
        assert.deepEqual(books(await analysis(run, other)), { ...ref, clock }, other);
      }
    });

    test(`${run}: every trace.dat record prints as the kernel printed it`, async () => {
      const dat = await text(fixture(run, 'trace.dat'));
      assert.deepEqual(dat.diags, []);
      assert.equal(dat.lines[0], 'cpus=2');
      assert.match(dat.info?.uname ?? '', /^Linux \S+ 6\.1/);
      assert.equal(dat.info?.clock, 'counter');
      const v6 = await text(fixture(run, 'trace-v6.dat'));
      assert.deepEqual(v6.lines, dat.lines, 'v6 and v7 give the same lines');
      // the kernel's text: the same events (its counter values are its own: an instance of its own)
      const kernel = fs
        .readFileSync(fixture(run, 'trace.txt'), 'latin1')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'));
      const bodies = (ls: string[]) => {
        const ev = new EventLine();
        const out: string[] = [];
        for (const l of ls) {
          const b = Buffer.from(l, 'latin1');
          if (!parseEventLine(b, 0, b.length, ev)) continue;
          let body = b.toString('latin1', ev.eventStart, ev.end);
          // what only the kernel can print: hashed pointers, and symbols (the files carry no kallsyms)
          body = body.replace(/virt_addr=\S+/, 'virt_addr=?').replace(/^(\w+): \([^)]*\)/, '$1: (ip)');
          out.push(`${b.toString('latin1', ev.taskStart, ev.taskEnd).trim()}-${ev.pid} ${ev.cpu} ${body}`);
        }
        return out.sort();
      };
      const mine = bodies(dat.lines);
      assert.equal(mine.length, dat.lines.length - 1);
      assert.deepEqual(mine, bodies(kernel));
    });

    test(`${run}: trace.dat lines agree with trace-cmd report wherever libtraceevent could print the event`, async () => {
      const dat = await text(fixture(run, 'trace.dat'));
      const report = fs.readFileSync(fixture(run, 'trace-cmd-report.txt'), 'latin1').replace(/\n$/, '').split('\n');
      assert.equal(report.length, dat.lines.length);
      let compared = 0;
      for (let i = 1; i < report.length; i++) {
        const r = (report[i] as string).replace(/\s+/g, ' ').trim();
        const m = (dat.lines[i] as string).replace(/\s+/g, ' ').trim();
        if (r.includes('[FAILED TO PARSE]')) continue;
        // trace-cmd names trace_marker writes "print: <ip>: text" (or with kallsyms "print: tracing_mark_write: text")
        compared++;
        assert.equal(m, r.replace(/ print: (?:0x[0-9a-f]+|tracing_mark_write): /, ' tracing_mark_write: '), `line ${i + 1}`);
      }
      assert.ok(compared > report.length / 2, `${compared} lines compared`);
    });
  }
});

test('a gzipped trace.dat: told apart by its content, and a clear error', async () => {
  const file = path.join(TMP, 'trace.dat.gz');
  fs.writeFileSync(file, gzipSync(fs.readFileSync(fixture('6.1-small-pool', 'trace.dat'))));
  const r = buildReport(await analyzeText([file], { noSizing: true }));
  assert.equal(r.input.kind, 'trace');
  assert.ok(r.diagnostics.some((d) => /trace\.dat inside gzip or a tar archive: .* extract it first/.test(d.message)));
});

test('perf script --header names the kernel release', async () => {
  const alone = buildReport(await analyzeText([fixture('6.12-small-pool', 'perf-script-period-header.txt')], { noSizing: true }));
  assert.equal(alone.kernel.profile, '6.12.117');
  assert.match(alone.kernel.source, /perf header "os release"/);
  const noHeader = buildReport(await analyzeText([fixture('6.12-small-pool', 'perf-script.txt')], { noSizing: true }));
  assert.doesNotMatch(noHeader.kernel.source, /perf header/);
});

// ---- synthetic files ---------------------------------------------------------------------

/** The common fields every event format file starts with. */
const COMMON = `\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;`;

const FMT_BOUNCED = `name: swiotlb_bounced
ID: 7
format:
${COMMON}

\tfield:__data_loc char[] dev_name;\toffset:8;\tsize:4;\tsigned:0;
\tfield:u64 dma_mask;\toffset:16;\tsize:8;\tsigned:0;
\tfield:dma_addr_t dev_addr;\toffset:24;\tsize:8;\tsigned:0;
\tfield:size_t size;\toffset:32;\tsize:8;\tsigned:0;
\tfield:bool force;\toffset:40;\tsize:1;\tsigned:0;

print fmt: "dev_name: %s dma_mask=%llx dev_addr=%llx size=%zu %s", __get_str(dev_name), REC->dma_mask, REC->dev_addr, REC->size, REC->force ? "FORCE" : "NORMAL"
`;
const FMT_OTHER = `name: sample
ID: 9
format:
${COMMON}

\tfield:int delta;\toffset:8;\tsize:4;\tsigned:1;
\tfield:char comm[8];\toffset:12;\tsize:8;\tsigned:0;

print fmt: "delta=%d comm=%s", REC->delta, REC->comm
`;
const FMT_PRINT = `name: print
ID: 5
format:
${COMMON}

\tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;
\tfield:char buf[];\toffset:16;\tsize:0;\tsigned:1;

print fmt: "%ps: %s", (void *)REC->ip, REC->buf
`;

function bounced(pid: number, dev: string, addr: number, size: number, force: boolean): Buffer {
  const name = Buffer.from(`${dev}\0`, 'latin1');
  const b = Buffer.alloc(40);
  b.writeUInt32LE((name.length << 16) | 48, 0); // __data_loc at 8: the string after the fixed fields
  b.writeBigUInt64LE(0xffffffffn, 8);
  b.writeBigUInt64LE(BigInt(addr), 16);
  b.writeBigUInt64LE(BigInt(size), 24);
  b[32] = force ? 1 : 0;
  return payload(7, pid, Buffer.concat([b, name]));
}
function sample(pid: number, delta: number, comm: string): Buffer {
  const b = Buffer.alloc(12);
  b.writeInt32LE(delta, 0);
  b.write(comm, 4, 'latin1');
  return payload(9, pid, b);
}
function marker(pid: number, text: string): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(0xffffffff811c36bdn, 0);
  return payload(5, pid, Buffer.concat([b, Buffer.from(`${text}\n\0`, 'latin1')]));
}

/** Two CPUs whose records interleave in time, with every kind of ring-buffer entry. */
function spec(version: 6 | 7, compression: 'none' | 'zlib' = 'none'): DatSpec {
  const cpu0 = [
    page({
      ts: 1_000_000_000,
      recs: [
        { kind: 'data', delta: 1600, payload: bounced(42, '0000:00:03.0', 0x8409000, 4096, true) }, // 1.0000016 s: rounds to 1.000002
        { kind: 'extend', delta: 2 ** 28 }, // 268.435456 ms later
        { kind: 'data', delta: 0, payload: sample(42, -5, 'abc') },
        { kind: 'pad', delta: 3000, bytes: 12 }, // a discarded record: its time still counts
        { kind: 'data', delta: 7, payload: bounced(0, '0000:00:04.0', 0x1000, 512, false), long: true },
        { kind: 'end' },
      ],
    }),
    page({
      ts: 2_000_000_000,
      lost: 17,
      recs: [
        { kind: 'stamp', ts: 3_000_000_000 }, // an absolute timestamp replaces the page's
        { kind: 'data', delta: 5, payload: marker(43, 'PHASE x') },
      ],
    }),
  ];
  const cpu1 = [
    page({ ts: 1_100_000_000, lost: 'unknown', recs: [{ kind: 'data', delta: 0, payload: sample(7, 1, 'zz') }] }),
    page({ ts: 2_500_000_000, recs: [{ kind: 'data', delta: 0, payload: sample(7, 2, 'zz') }] }),
  ];
  return {
    version,
    compression,
    clock: version === 6 ? '[local] global counter uptime' : 'local',
    uname: 'Linux box 6.9.1-arch1 x86_64',
    formats: { ftrace: [FMT_PRINT], swiotlb: [FMT_BOUNCED], test: [FMT_OTHER] },
    cmdlines: '42 fio\n43 sh\n',
    cpus: [cpu0, cpu1],
  };
}

const EXPECTED = [
  'cpus=2',
  '             fio-42 [000] 1.000002: swiotlb_bounced: dev_name: 0000:00:03.0 dma_mask=ffffffff dev_addr=8409000 size=4096 FORCE',
  'CPU:1 [LOST EVENTS]',
  '           <...>-7 [001] 1.100000: sample: delta=1 comm=zz',
  '             fio-42 [000] 1.268437: sample: delta=-5 comm=abc',
  '          <idle>-0 [000] 1.268440: swiotlb_bounced: dev_name: 0000:00:04.0 dma_mask=ffffffff dev_addr=1000 size=512 NORMAL',
  '           <...>-7 [001] 2.500000: sample: delta=2 comm=zz',
  'CPU:0 [LOST 17 EVENTS]',
  '              sh-43 [000] 3.000000: tracing_mark_write: PHASE x',
];

describe('trace.dat encodings (synthetic files)', () => {
  test('magic', () => {
    assert.equal(isTraceDat(traceDat(spec(6))), true);
    assert.equal(isTraceDat(Buffer.from('\x17\x08Dtracin')), false);
    assert.equal(isTraceDat(Buffer.from('# tracer: nop\n')), false);
  });

  for (const [v, c] of [
    [6, 'none'],
    [7, 'none'],
    [7, 'zlib'],
  ] as const) {
    test(`v${v} ${c}: records merged by time across CPUs; time extends, absolute timestamps, padding, long records, lost events, cmdlines`, async () => {
      const file = path.join(TMP, `syn-${v}-${c}.dat`);
      fs.writeFileSync(file, traceDat(spec(v, c)));
      const t = await text(file);
      assert.deepEqual(t.diags, []);
      // "sample" is not an event we analyse: printed as field=value (here the same as its print fmt)
      assert.deepEqual(t.lines, EXPECTED);
      assert.equal(t.info?.clock, 'local');
      assert.equal(t.info?.compression, c);
      assert.equal(t.info?.uname, 'Linux box 6.9.1-arch1 x86_64');
    });
  }

  test('the analysis reads a trace.dat: events, lost events, the kernel release from uname', async () => {
    const file = path.join(TMP, 'syn-analyze.dat');
    fs.writeFileSync(file, traceDat(spec(7, 'zlib')));
    const r = buildReport(await analyzeText([file], { noSizing: true }));
    assert.equal(r.input.kind, 'trace');
    assert.equal(r.counts.bounced, 2);
    assert.equal(r.counts.markers, 1);
    assert.equal(r.counts.unknown_events.sample, 3);
    // two lost-event notes, as the text path reports "CPU:N [LOST n EVENTS]" lines
    assert.equal(r.counts.lost_events, 2);
    assert.deepEqual(
      r.diagnostics.filter((d) => /LOST/.test(d.message)).map((d) => d.message.replace(/:.*/, '')),
      ['CPU', 'CPU'],
    );
    assert.ok(r.diagnostics.some((d) => d.message.startsWith('CPU:0 [LOST 17 EVENTS]')));
    assert.match(r.kernel.source, /6\.9\.1-arch1/);
    assert.equal(r.input.clock, 'seconds');
  });

  test('a bad page: a diagnostic naming the CPU and page, the other pages still read', async () => {
    const s = spec(6);
    const bad = Buffer.from(s.cpus[0]?.[0] as Buffer);
    bad.writeBigUInt64LE(BigInt(PAGE), 8); // commit beyond the page
    (s.cpus[0] as Buffer[])[0] = bad;
    const file = path.join(TMP, 'syn-badpage.dat');
    fs.writeFileSync(file, traceDat(s));
    const t = await text(file);
    assert.equal(t.diags.length, 1);
    assert.match(t.diags[0] as string, /^CPU 0 page 1 \(file offset \d+\): commit 4096 is beyond the page/);
    assert.deepEqual(
      t.lines,
      EXPECTED.filter((l) => !/\[000\] 1\./.test(l)),
    );
  });

  test('an unknown event id and a record running past its page: diagnostics, the rest read', async () => {
    const s = spec(7);
    const p = Buffer.from(s.cpus[1]?.[0] as Buffer);
    p.writeUInt16LE(999, 16 + 4); // the common_type of the page's one record
    (s.cpus[1] as Buffer[])[0] = p;
    const q = Buffer.from(s.cpus[1]?.[1] as Buffer);
    q.writeUInt32LE((0 << 5) | 28, 16); // type_len 28: 112 bytes, beyond the page's data
    (s.cpus[1] as Buffer[])[1] = q;
    const file = path.join(TMP, 'syn-badrec.dat');
    fs.writeFileSync(file, traceDat(s));
    const t = await text(file);
    assert.equal(t.diags.length, 2);
    assert.match(t.diags[0] as string, /CPU 1 page 1: a record of event id 999/);
    assert.match(t.diags[1] as string, /CPU 1 page 2 \(file offset \d+\): a record at byte 16 of the page runs past its data/);
    assert.deepEqual(
      t.lines,
      EXPECTED.filter((l) => !/-7 \[001\]/.test(l)),
    );
  });
});

// ---- damaged real files ------------------------------------------------------------------

describe('damaged real trace.dat files (property)', () => {
  for (const name of ['trace.dat', 'trace-v6.dat']) {
    test(`${name} cut short anywhere or with bytes flipped: no exception, diagnostics, only intact records`, async () => {
      const full = fs.readFileSync(fixture('6.12-small-pool', name));
      const all = (await text(fixture('6.12-small-pool', name))).lines;
      const known = new Map<string, number>();
      for (const l of all) known.set(l, (known.get(l) ?? 0) + 1);
      const file = path.join(TMP, `damaged-${name}`);
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: full.length - 1 }),
          fc.array(fc.tuple(fc.nat(full.length - 1), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }),
          async (cut, flips) => {
            const b = Buffer.from(full.subarray(0, cut));
            fs.writeFileSync(file, b);
            const t = await text(file);
            // records missing: never silently (a cut in v7's trailing strings section loses none)
            if (t.lines.length < all.length) assert.ok(t.diags.length > 0, `cut at ${cut}: a diagnostic`);
            const seen = new Map<string, number>();
            for (const l of t.lines) {
              const n = (seen.get(l) ?? 0) + 1;
              seen.set(l, n);
              if (!l.startsWith('CPU:')) assert.ok(n <= (known.get(l) ?? 0), `cut at ${cut}: "${l}" is not a record of the file`);
            }
            // flipped bytes anywhere: no exception, every line printable
            const f = Buffer.from(full);
            for (const [at, x] of flips) f[at] = (f[at] as number) ^ x;
            fs.writeFileSync(file, f);
            const g = await text(file);
            for (const l of g.lines) assert.ok(!/[\n\r]/.test(l));
          },
        ),
        { numRuns: 60, seed: 20261202 },
      );
    });
  }

  test('a longer piece of the file never reads fewer records', async () => {
    const full = fs.readFileSync(fixture('6.12-small-pool', 'trace-v6.dat'));
    const file = path.join(TMP, 'grow-v6.dat');
    let before = -1;
    for (let cut = 0; cut <= full.length; cut += 4099) {
      fs.writeFileSync(file, full.subarray(0, cut));
      const n = (await text(file)).lines.length;
      assert.ok(n >= before, `cut at ${cut}: ${n} lines, fewer than ${before}`);
      before = n;
    }
    assert.ok(before > 3000);
  });

  test('the intact part of a cut file is read: cut inside the last CPU data, every other CPU is complete', async () => {
    const full = fs.readFileSync(fixture('6.12-small-pool', 'trace-v6.dat'));
    const all = (await text(fixture('6.12-small-pool', 'trace-v6.dat'))).lines;
    const file = path.join(TMP, 'cut-v6.dat');
    // v6 stores CPU 0's pages, then CPU 1's: cutting 2 pages before the end loses only CPU 1 records
    fs.writeFileSync(file, full.subarray(0, full.length - 2 * PAGE - 100));
    const t = await text(file);
    assert.equal(t.diags.length, 1);
    assert.match(
      t.diags[0] as string,
      /^CPU 1: the data \(\d+ bytes at file offset \d+\) runs past the end of the file at offset \d+: read up to there$/,
    );
    const cpu0 = (ls: string[]) => ls.filter((l) => l.includes('] ') && l.includes(' [000] '));
    assert.deepEqual(cpu0(t.lines), cpu0(all));
    assert.ok(t.lines.length < all.length);
  });

  test('a file cut inside its metadata: one diagnostic with the offset, no lines', async () => {
    const full = fs.readFileSync(fixture('6.1-small-pool', 'trace.dat'));
    fs.writeFileSync(path.join(TMP, 'meta-cut.dat'), full.subarray(0, 100));
    const t = await text(path.join(TMP, 'meta-cut.dat'));
    assert.deepEqual(t.lines, []);
    assert.equal(t.diags.length, 1);
    assert.match(t.diags[0] as string, /offset \d+/);
  });
});
