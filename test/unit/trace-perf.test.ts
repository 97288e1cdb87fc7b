/**
 * `perf script` line layouts (its default and the common -F field lists, as perf 6.1 prints
 * them: captured from Debian's linux-perf) read as event lines, and libtraceevent's
 * "[FAILED TO PARSE]" form of dma:* events; the print fmt evaluator on the constructs the
 * kernel's dma.h, swiotlb.h and kprobe events use.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseFormat } from '../../src/io/traceFormat';
import { EventParser, type SgArrays, type TraceSink } from '../../src/trace/events';
import { EventLine, parseEventLine } from '../../src/trace/ftrace';

function parse(line: string): { task: string; pid: number; cpu: number; time: number; event: string; body: string } | null {
  const b = Buffer.from(line, 'latin1');
  const ev = new EventLine();
  if (!parseEventLine(b, 0, b.length, ev)) return null;
  return {
    task: b.toString('latin1', ev.taskStart, ev.taskEnd),
    pid: ev.pid,
    cpu: ev.cpu,
    time: ev.time,
    event: b.toString('latin1', ev.eventStart, ev.eventEnd),
    body: b.toString('latin1', ev.bodyStart, ev.end),
  };
}

const BODY = 'dev_name: 0000:00:03.0 dma_mask=ffffffffffffffff dev_addr=8409000 size=4096 FORCE';

describe('perf script layouts', () => {
  const cases: [string, string, { task: string; pid: number; cpu: number; time: number }][] = [
    [
      'default',
      `              dd   211 [001]    16.708685: swiotlb:swiotlb_bounced: ${BODY}`,
      { task: 'dd', pid: 211, cpu: 1, time: 16.708685 },
    ],
    [
      '-F comm,pid,tid,cpu,time,event,trace --ns',
      `     migration/0    18/18    [000]   340.584691150: swiotlb:swiotlb_bounced: ${BODY}`,
      { task: 'migration/0', pid: 18, cpu: 0, time: 340.58469115 },
    ],
    [
      '-F +period',
      `            perf 16216 [000]   340.584676:          1 swiotlb:swiotlb_bounced: ${BODY}`,
      { task: 'perf', pid: 16216, cpu: 0, time: 340.584676 },
    ],
    [
      '-F +flags,+misc',
      `            perf 16216 [000] K       340.584676: swiotlb:swiotlb_bounced:                         ${BODY}`,
      { task: 'perf', pid: 16216, cpu: 0, time: 340.584676 },
    ],
    [
      '-F tid,cpu,time,event,trace (no comm)',
      `16216 [000]   340.584676: swiotlb:swiotlb_bounced: ${BODY}`,
      { task: '', pid: 16216, cpu: 0, time: 340.584676 },
    ],
    [
      '-F comm,tid,time,event,trace (no cpu)',
      `            perf 16216   340.584676: swiotlb:swiotlb_bounced: ${BODY}`,
      { task: 'perf', pid: 16216, cpu: 0, time: 340.584676 },
    ],
    [
      '-F comm,pid,tid,time,event,trace (no cpu)',
      `     kworker/1:1H   155/155     15.973930: swiotlb:swiotlb_bounced: ${BODY}`,
      { task: 'kworker/1:1H', pid: 155, cpu: 0, time: 15.97393 },
    ],
    [
      '-F comm,time,event,trace',
      `            perf   340.584676: swiotlb:swiotlb_bounced: ${BODY}`,
      { task: 'perf', pid: 0, cpu: 0, time: 340.584676 },
    ],
    ['-F time,event,trace', `  340.584676: swiotlb:swiotlb_bounced: ${BODY}`, { task: '', pid: 0, cpu: 0, time: 340.584676 }],
    [
      'a comm with spaces',
      `  kworker u4 2 x   77 [001]    16.708685: swiotlb:swiotlb_bounced: ${BODY}`,
      { task: 'kworker u4 2 x', pid: 77, cpu: 1, time: 16.708685 },
    ],
  ];
  for (const [name, line, want] of cases) {
    test(name, () => {
      const p = parse(line);
      assert.ok(p, line);
      assert.deepEqual({ task: p.task, pid: p.pid, cpu: p.cpu, time: p.time }, want);
      assert.equal(p.event, 'swiotlb_bounced');
      assert.equal(p.body.trim(), BODY);
    });
  }

  test('the kprobe events of perf (group:name) and a sample with ip/sym after the trace', () => {
    const p = parse(
      '              dd   180 [001]    15.827046:             swt:map_ret: (ffffffff8114517e) ret=0x7c9ca000 ffffffff8114517e swiotlb_tbl_map_single',
    );
    assert.equal(p?.event, 'map_ret');
    assert.match(p?.body ?? '', /^\(ffffffff8114517e\) ret=0x7c9ca000/);
  });

  test('ftrace and trace-cmd layouts still read as before; log lines are not events', () => {
    assert.equal(parse('            init-1       [001] .....            6: tracing_mark_write: PHASE start')?.event, 'tracing_mark_write');
    assert.equal(
      parse('              dd-213   [001]          78: dma_map_sg:           0000:00:03.0 dir=FROM_DEVICE')?.event,
      'dma_map_sg',
    );
    assert.equal(parse('       sh-210     [001] d.h..     81.5: dma_unmap_sg: 0000:00:03.0 dir=FROM_DEVICE')?.task, '       sh'.trim());
    for (const l of [
      '[    0.000000] Linux version 6.12.117+deb13-amd64',
      'sd 0:0:0:0: [sda] 131072 512-byte logical blocks',
      'Dec 02 07:00:40 host kernel: nvme 0000:00:03.0: swiotlb buffer is full (sz: 4096 bytes)',
      '2026-12-02T07:00:40.123456+00:00 host kernel: swiotlb: mapped [mem 0x1-0x2] (64MB)',
      '# ========',
      '# os release : 6.18.44-fc-v1045',
    ])
      assert.equal(parse(l), null, l);
  });
});

/** Records what the event parser hands over for dma_map_sg / dma_unmap_sg. */
function sgOf(
  line: string,
): { dev: number; dir: number; dma: number[]; size: number[]; phys: number[]; attrs: number; total: number } | string {
  let out: ReturnType<typeof sgOf> = 'nothing';
  const copy = (sg: SgArrays) => ({
    dma: Array.from(sg.dma.subarray(0, sg.nDma)),
    size: Array.from(sg.size.subarray(0, sg.nSize)),
    phys: Array.from(sg.phys.subarray(0, sg.nPhys)),
  });
  const sink = new Proxy({} as TraceSink, {
    get(_t, prop) {
      if (prop === 'dmaMapSg')
        return (_e: EventLine, _l: number, dev: number, dir: number, sg: SgArrays, attrs: number, total: number) => {
          out = { dev, dir, ...copy(sg), attrs, total };
        };
      if (prop === 'dmaUnmapSg')
        return (_e: EventLine, _l: number, dev: number, dir: number, sg: SgArrays, attrs: number) => {
          out = { dev, dir, ...copy(sg), attrs, total: sg.n };
        };
      if (prop === 'malformed') return (_e: EventLine, _l: number, m: string) => (out = m);
      return () => {};
    },
  });
  const p = new EventParser(sink);
  const b = Buffer.from(line, 'latin1');
  const ev = new EventLine();
  assert.ok(parseEventLine(b, 0, b.length, ev));
  p.parse(b, ev, 1);
  return out;
}

describe("libtraceevent's [FAILED TO PARSE] form (perf script and trace-cmd report of 6.12's dma_map_sg)", () => {
  const bytes = (vs: number[], n: number) =>
    vs
      .flatMap((v) => Array.from({ length: n }, (_x, k) => Math.floor(v / 2 ** (8 * k)) % 256))
      .map((x) => x.toString(16).padStart(2, '0'))
      .join(', ');

  test('dma_map_sg: the same entries as the kernel text gives', () => {
    const text = sgOf(
      '              dd-213     [001] .N...           77: dma_map_sg: 0000:00:03.0 dir=FROM_DEVICE nents=2/2 ents=2/2 dma_addrs={0x7c98f000,0xffffffff7c990000} sizes={0x1000,0x2000} phys_addrs={0x83ff000,0x840d000} attrs=NO_WARN',
    );
    const raw = sgOf(
      `              dd   213 [001]    16.739137:                 dma:dma_map_sg: [FAILED TO PARSE] device=0000:00:03.0 full_nents=2 full_ents=2 truncated=0 phys_addrs=ARRAY[${bytes([0x83ff000, 0x840d000], 8)}] dma_addrs=ARRAY[${bytes([0x7c98f000, 0xffffffff7c990000], 8)}] lengths=ARRAY[${bytes([0x1000, 0x2000], 4)}] dir=2 attrs=0x100`,
    );
    assert.deepEqual(raw, text);
    assert.equal(typeof raw === 'object' && raw.dma[1], 0xffffffff7c990000);
  });

  test('dma_unmap_sg: "addrs" are the physical addresses', () => {
    const text = sgOf(
      '              sh-210     [001] d.h..           81: dma_unmap_sg: 0000:00:03.0 dir=FROM_DEVICE phys_addrs={0x83ff000,0x840d000} attrs=',
    );
    const raw = sgOf(
      `              sh   210 [001]    16.742220:               dma:dma_unmap_sg: [FAILED TO PARSE] device=0000:00:03.0 addrs=ARRAY[${bytes([0x83ff000, 0x840d000], 8)}] dir=2 attrs=0x0`,
    );
    assert.deepEqual(raw, text);
  });

  test('a cut-short byte array is a malformed event, not a crash', () => {
    const r = sgOf(
      '              dd   213 [001]    16.739137: dma:dma_map_sg: [FAILED TO PARSE] device=0000:00:03.0 full_nents=1 full_ents=1 truncated=0 phys_addrs=ARRAY[00, f0, 3f',
    );
    assert.equal(typeof r, 'string');
    assert.match(r as string, /cut short/);
  });
});

function fmt(fields: string, print: string) {
  return parseFormat(
    `name: t\nID: 1\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n${fields}\nprint fmt: ${print}\n`,
    'dma',
  );
}
function rec(bytes: number[]) {
  const data = new Uint8Array(bytes);
  return { data, view: new DataView(data.buffer), start: 0, end: data.length, little: true };
}

describe('print fmt evaluation', () => {
  test('statement expressions, ternaries, __print_flags leftovers, casts, signedness, %d/%u/%x/%llx', () => {
    const ev = fmt(
      '\tfield:int a;\toffset:8;\tsize:4;\tsigned:1;\n\tfield:unsigned long f;\toffset:16;\tsize:8;\tsigned:0;\n\tfield:bool t;\toffset:24;\tsize:1;\tsigned:0;',
      `"n=%d/%d%s flags=%s u=%u x=%x big=%llx", ({ int __x = (REC->a); int __y = (128); ((__x) < (__y) ? (__x) : (__y)); }), REC->a, REC->t ? " [TRUNCATED]" : "", __print_flags(REC->f, "|", { (1UL << 1), "WEAK" }, { (1UL << 8), "NO_WARN" }), REC->a, (unsigned char)REC->a, ( unsigned long)(REC->f) << 4`,
    );
    assert.equal(ev.printError, undefined);
    const b = new Array(32).fill(0);
    b[8] = 0x2c;
    b[9] = 0x01; // a = 300
    b[16] = 0x02;
    b[17] = 0x01;
    b[18] = 0x10; // f = 0x100102: WEAK | NO_WARN | 0x100000
    b[24] = 1;
    assert.equal(ev.print?.(rec(b)), 'n=128/300 [TRUNCATED] flags=WEAK|NO_WARN|0x100000 u=300 x=2c big=1001020');
    b[8] = 0xfe;
    b[9] = 0xff;
    b[10] = 0xff;
    b[11] = 0xff; // a = -2
    b[24] = 0;
    assert.equal(ev.print?.(rec(b)), 'n=-2/-2 flags=WEAK|NO_WARN|0x100000 u=4294967294 x=fe big=1001020');
  });

  test('__data_loc strings and __print_array of u32 and u64; __print_symbolic; a kprobe "(%lx) x=0x%Lx"', () => {
    const ev = fmt(
      '\tfield:__data_loc char[] device;\toffset:8;\tsize:4;\tsigned:0;\n\tfield:__data_loc unsigned int[] lengths;\toffset:12;\tsize:4;\tsigned:0;\n\tfield:enum dma_data_direction dir;\toffset:16;\tsize:4;\tsigned:0;',
      `"%s dir=%s sizes=%s", __get_str(device), __print_symbolic(REC->dir, { 0, "BIDIRECTIONAL" }, { 2, "FROM_DEVICE" }), __print_array(__get_dynamic_array(lengths), __get_dynamic_array_len(lengths) / sizeof(unsigned int), sizeof(unsigned int))`,
    );
    const b = new Array(36).fill(0);
    b[8] = 20;
    b[10] = 3; // device at 20, 3 bytes
    b[12] = 24;
    b[14] = 8; // lengths at 24, 8 bytes
    b[16] = 2;
    b.splice(20, 3, 0x61, 0x62, 0);
    b[24] = 0x00;
    b[25] = 0x10;
    b[28] = 0x00;
    b[29] = 0x60;
    assert.equal(ev.print?.(rec(b)), 'ab dir=FROM_DEVICE sizes={0x1000,0x6000}');
    b[16] = 7;
    assert.equal(ev.print?.(rec(b)), 'ab dir=0x7 sizes={0x1000,0x6000}');
    const k = fmt(
      '\tfield:unsigned long __probe_ip;\toffset:8;\tsize:8;\tsigned:0;\n\tfield:u64 ret;\toffset:16;\tsize:8;\tsigned:0;',
      '"(%lx) ret=0x%Lx", REC->__probe_ip, REC->ret',
    );
    const kb = new Array(24).fill(0xff);
    assert.equal(k.print?.(rec(kb)), '(ffffffffffffffff) ret=0xffffffffffffffff');
  });

  test('a print fmt it cannot read is an error, not a crash', () => {
    const ev = fmt('\tfield:int a;\toffset:8;\tsize:4;\tsigned:1;', '"%d", frobnicate(REC->a)');
    assert.equal(ev.print, null);
    assert.match(ev.printError ?? '', /frobnicate/);
    assert.match(fmt('\tfield:int a;\toffset:8;\tsize:4;\tsigned:1;', '"%d", REC->nope').printError ?? '', /no field nope/);
  });
});
