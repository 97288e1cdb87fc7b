/**
 * Kernel logs as people paste them (klogLines.ts): a message wrapped at any space (or inside a
 * word) by a mail client, syslog or a forum, quoted in any of the usual ways, behind any log
 * prefix, is read as the one line the kernel printed, on its first physical line; lines that are
 * complete are never glued together.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { KernelLogParser, type LogMessage } from '../../src/trace/klog';
import { joinContinuation, unquoteLine } from '../../src/trace/klogLines';
import { buildReport } from '../../src/trace/report';
import { analyzeText } from '../../src/trace/run';

/** Messages as the kernel prints them (after the log prefix), of many kinds and devices. */
const MESSAGES = [
  'rtl8821ae 0000:02:00.0: swiotlb buffer is full (sz: 9100 bytes), total 32768 (slots), used 32768 (slots)',
  'dwc3 38200000.dwc3: swiotlb buffer is full (sz: 16384 bytes)',
  'udl 2-1.2:1.0: overflow 0x000000011a47d000+536576 of DMA mask ffffffff bus mask 0',
  'vc4-drm gpu: overflow 0x00000001a7296000+708608 of DMA mask ffffffff bus limit ffffffff',
  'xhci_hcd 0000:08:00.0: swiotlb addr 0x00000004184f3000+8 overflow (mask ffffffff, bus limit 5ffffffff).',
  'e1000e 0000:00:19.0: DMA addr 0x0000000123456000+1514 overflow (mask ffffffff, bus limit 0).',
  'xhci_hcd 0000:00:14.0: dma_direct_map_page: overflow 0x000000012345a000+64 of device mask ffffffff bus mask 0',
  'software IO TLB: mapped [mem 0x0000001df9c00000-0x0000001ff9c00000] (8192MB)',
  'software IO TLB [mem 0xf7fff000-0xfffff000] (128MB) mapped at [ffff8800f7fff000-ffff8800ffffefff]',
  'DMA: Out of SW-IOMMU space for 9100 bytes at device 0000:02:00.0',
  'sdhci-iproc fe340000.emmc2: DMA: Out of SW-IOMMU space for 65536 bytes',
  'swiotlb: coherent allocation failed for device 0000:07:00.0 size=2097152',
  'amdgpu 0000:07:00.0: swiotlb: coherent allocation failed, size=2097152',
  'xen:swiotlb_xen: Warning: only able to allocate 4 MB for software IO TLB',
  'Reserved memory: created restricted DMA pool at 0x0000000050000000, size 32 MiB',
  'software IO TLB: Memory encryption is active and system is using DMA bounce buffers',
  'WARNING: CPU: 1 PID: 749 at kernel/dma/direct.c:35 report_addr+0x3e/0x70',
  'CPU: 1 PID: 749 Comm: Xorg Tainted: G W 5.4.0-rc4+ #1',
  'nvme 0000:00:04.0: Cannot do DMA to address 0x0000000123456000',
  "nvme 0000:00:04.0: Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer",
  'swiotlb_tbl_map_single: 4361 callbacks suppressed',
  'virtio-pci 0000:00:01.0: swiotlb buffer is full (sz: 294912 bytes), total 1024 (slots), used 725 (slots)',
];

/** Log prefixes a message comes behind. */
const PREFIXES = [
  '',
  '[ 4851.947037] ',
  '<4>[    8.185411] ',
  'Mar 16 18:11:41 minimezz kernel: [ 4851.947037] ',
  'juil. 29 14:38:52 Nostromo-sd kernel: ',
  '2024-03-05T10:11:12.123456+01:00 guest kernel: ',
  'kern  :warn  : [  12.345678] ',
  '[Tue Mar  5 10:11:12 2024] ',
  '[ 4851.947037] minimezz kernel: ',
  'Tue 2024-03-05 10:11:12 CET guest kernel: ',
  '[  +0.000123] ',
  '[Mar 5 10:11] ',
];

/** How pastes quote a physical line: mail, commit messages, markdown, HTML, odd spaces. */
const QUOTES: [string, (l: string) => string][] = [
  ['plain', (l) => l],
  ['mail', (l) => `> ${l}`],
  ['mail twice', (l) => `> > ${l}`],
  ['mail thrice', (l) => `>>> ${l}`],
  ['commit', (l) => `  | ${l}`],
  ['tab', (l) => `\t${l}`],
  ['markdown code', (l) => `\`${l}\``],
  ['html', (l) => `&gt; ${l.replace(/&/g, '&amp;').replace(/'/g, '&#39;')}`],
  ['nbsp', (l) => `>>> ${l.replace(/ {2}/g, '\u00a0 ').replace(/\[ /g, '[\u00a0')}`],
  ['html tags', (l) => `<code>${l.replace(/&/g, '&amp;')}</code><br>`],
  ['dmesg --color', (l) => `\x1b[32m${l.replace(/\] /, ']\x1b[0m ')}\x1b[0m`],
];

/** The fields a reading must keep, whatever the paste did. */
function reading(m: LogMessage | undefined): unknown {
  if (!m) return undefined;
  const { kind, format, driver, device, size, total, used, addr, mask, busLimit, base, nslabs, value, detail } = m;
  return { kind, format, driver, device, size, total, used, addr, mask, busLimit, base, nslabs, value, detail };
}

function read(lines: readonly string[]): LogMessage[] {
  const p = new KernelLogParser();
  const out: LogMessage[] = [];
  const r = p.reader((m) => out.push(m));
  lines.forEach((l, i) => {
    r.push(l, i + 1);
  });
  r.end();
  return out;
}

/** Every place a mail client could wrap `msg`: at each space, the space dropped or kept at the end of the first part. */
function wraps(msg: string): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 1; i < msg.length; i++) {
    if (msg[i] !== ' ') continue;
    out.push([msg.slice(0, i), msg.slice(i + 1)]);
    out.push([msg.slice(0, i + 1), msg.slice(i + 1)]);
  }
  return out;
}

describe('wrapped and quoted messages are read as the kernel printed them', () => {
  for (const msg of MESSAGES) {
    test(msg.slice(0, 60), () => {
      const want = reading(read([msg])[0]);
      assert.ok(want, 'the unwrapped line is a message');
      let cases = 0;
      for (const prefix of PREFIXES) {
        for (const [name, quote] of QUOTES) {
          const whole = read([quote(prefix + msg)]);
          assert.deepEqual(whole.map(reading), [want], `${name} ${JSON.stringify(prefix)}`);
          for (const [a, b] of wraps(prefix + msg)) {
            if (a.trim() === '' || a.length <= prefix.length - 1) continue;
            const got = read(['[    1.000000] usb 1-1: new high-speed USB device', quote(a), quote(b), '[    2.000000] usb 1-1: done']);
            assert.deepEqual(got.map(reading), [want], `${name} ${JSON.stringify(prefix)}: ${JSON.stringify(a)} / ${JSON.stringify(b)}`);
            assert.deepEqual([got[0]?.line, got[0]?.endLine], [2, 3]);
            cases++;
          }
        }
      }
      assert.ok(cases > 100);
    });
  }

  test('three-way wraps, and the continuation quoted deeper or shallower than its first part', () => {
    for (const msg of MESSAGES) {
      const want = reading(read([msg])[0]);
      const spaces = [...msg.matchAll(/ /g)].map((m) => m.index as number);
      for (let i = 0; i + 3 < spaces.length; i += 2) {
        const [x, y] = [spaces[i] as number, spaces[i + 3] as number];
        const lines = [`> > [  37.486584] ${msg.slice(0, x)}`, `> ${msg.slice(x + 1, y)}`, `>>> ${msg.slice(y + 1)}`];
        const got = read(lines);
        assert.deepEqual(got.map(reading), [want], lines.join(' / '));
        assert.deepEqual([got[0]?.line, got[0]?.endLine], [1, 3]);
      }
    }
  });

  test('cut inside a word (a number, an address, a keyword): joined without a space', () => {
    const cuts: [string, string][] = [
      ['[  562.139080] udl 2-1.2:1.0: swiotlb buffer is full (sz: 27238', '40 bytes), total 32768 (slots), used 206 (slots)'],
      ['[  37.486591] udl 2-1.2:1.0: overflow 0x000000011a4', '7d000+536576 of DMA mask ffffffff bus mask 0'],
      ['[   24.164169] software IO TLB: mapped [mem 0x0000001df9c00000-0x0000001ff9c0', '0000] (8192MB)'],
      ['xhci_hcd 0000:08:00.0: swiotlb addr 0x00000004184f3000+8 overflow (mask ffffffff, bus limit 5fff', 'fffff).'],
      ['Jun 04 16:56:17 rasp-mh-cm4-001 kernel: WARN', 'ING: CPU: 0 PID: 1281 at kernel/dma/swiotlb.c:715 swiotlb_map+0x3bc/0x46c'],
      ['rtl8821ae 0000:02:0', '0.0: swiotlb buffer is full (sz: 9100 bytes)'],
      ['DMA: Out of SW-IO', 'MMU space for 9100 bytes at device 0000:02:00.0'],
    ];
    for (const [a, b] of cuts) {
      const want = reading(read([a + b])[0]);
      assert.ok(want, a + b);
      assert.deepEqual(read([a, b]).map(reading), [want], `${a} / ${b}`);
    }
  });

  test('links, images and URLs a paste interleaved are skipped, even inside a wrapped message', () => {
    const lines = [
      'Jun 04 16:56:17 rasp-mh-cm4-001 kernel: W',
      '[config-5.10.39-v7l.txt](https://github.com/raspberrypi/linux/files/6600398/config-5.10.39-v7l.txt)',
      '![dmesg](https://user-images.githubusercontent.com/1/2.png)',
      'ARNING: CPU: 0 PID: 1281 at kernel/dma/swiotlb.c:715 swiotlb_map+0x3bc/0x46c',
      'https://example.org/log.txt',
      'xhci_hcd 0000:08:00.0: swiotlb addr 0x00000004184f3000+8',
      'overflow (mask ffffffff, bus limit 5ffffffff).',
    ];
    const got = read(lines);
    assert.deepEqual(
      got.map((m) => [m.kind, m.line, m.endLine ?? m.line, m.detail ?? m.device]),
      [
        ['warn', 1, 4, 'kernel/dma/swiotlb.c:715 swiotlb_map+0x3bc/0x46c'],
        ['overflow', 6, 7, '0000:08:00.0'],
      ],
    );
  });

  test('code fences, blank lines and prompts end a message; quoting is taken off', () => {
    const lines = [
      '```',
      'xhci_hcd 0000:01:00.0: swiotlb buffer is full (sz: 512 bytes),',
      '```',
      'total 32768 (slots), used 32768 (slots)',
      'virtio-pci 0000:00:02.0: swiotlb buffer is full (sz: 262144 bytes),',
      '',
      'total 524288 (slots), used 523564 (slots)',
      '**nvme 0000:00:03.0: swiotlb buffer is full (sz: 4096 bytes), total 512 (slots), used 512 (slots)**',
    ];
    const got = read(lines);
    assert.deepEqual(
      got.map((m) => [m.line, m.device, m.total ?? null]),
      [
        [2, '0000:01:00.0', null],
        [5, '0000:00:02.0', null],
        [8, '0000:00:03.0', 512],
      ],
    );
    assert.deepEqual(unquoteLine('&gt;&gt; [ 1.0] a &amp; b&nbsp;&#x41;&#66;'), { text: '[ 1.0] a & b AB', filler: false, barrier: false });
  });

  test('complete lines are never glued: bare logs, stack frames, prompts, lines with their own prefix', () => {
    const bare = [
      'dwc3 38200000.dwc3: swiotlb buffer is full (sz: 16384 bytes)',
      'dwc3 38200000.dwc3: DMA: Out of SW-IOMMU space for 16384 bytes',
      'swiotlb buffer is full (sz: 4096 bytes), total 0 (slots), used 0 (slots)',
      'Call Trace:',
      'swiotlb_tbl_map_single+0x214/0x240',
      'Kernel command line: console=ttyS0 swiotlb=65536',
      'root=/dev/sda1',
      'DMA: Out of SW-IOMMU space for 9100 bytes at device 0000:02:00.0',
      'swiotlb buffer is full (sz: 4096 bytes)',
      'root@ubuntu:/home/ubuntu# dmesg | grep -i swiotlb',
      '[    0.1] software IO TLB: mapped [mem',
      '[    0.2] 0x0000000011800000-0x0000000011c00000] (4MB)',
    ];
    const got = read(bare);
    assert.deepEqual(
      got.map((m) => [m.line, m.endLine ?? m.line, m.kind]),
      [
        [1, 1, 'full'],
        [2, 2, 'out-of-space'],
        [3, 3, 'full'],
        [6, 6, 'cmdline'],
        [8, 8, 'out-of-space'],
        [9, 9, 'full'],
      ],
    );
    assert.equal(joinContinuation('nvme 0000:00:03.0: swiotlb buffer is full (sz: 4096 bytes)', 'bytes), total 5 (slots)'), null);
  });
});

/** Lines around the messages that are none (a driver's own complaints, stack frames, shell). */
const NOISE = [
  'sd 0:0:0:0: [sda] tag#6 data out submit err -11 uas-tag 16 inflight: s-out a-cmd s-cmd',
  'usb 2-1.2: usbfs: usb_submit_urb returned -11',
  'Call Trace:',
  ' swiotlb_tbl_map_single+0x214/0x240',
  'Modules linked in: nvme nvme_core',
  'root@host:~# dmesg | grep -i swiotlb',
  'pages',
  'total',
];

test('property: any mix of messages, wrapped at random spaces and quoted at random, with noise between, reads back the same messages in order', () => {
  const item = fc.oneof(
    fc.record({
      msg: fc.constantFrom(...MESSAGES),
      prefix: fc.constantFrom(...PREFIXES.filter((p) => p !== '')),
      quote: fc.nat(QUOTES.length - 1),
      cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    }),
    fc.record({ noise: fc.constantFrom(...NOISE) }),
  );
  fc.assert(
    fc.property(fc.array(item, { maxLength: 12 }), (items) => {
      const lines: string[] = [];
      const want: unknown[] = [];
      const firstLines: number[] = [];
      for (const it of items) {
        if ('noise' in it) {
          lines.push(`[    3.000000] ${it.noise}`);
          continue;
        }
        const quote = (QUOTES[it.quote] as [string, (l: string) => string])[1];
        const whole = it.prefix + it.msg;
        want.push(reading(read([it.msg])[0]));
        firstLines.push(lines.length + 1);
        const spaces = [...it.msg.matchAll(/ /g)].map((m) => it.prefix.length + (m.index as number));
        const at =
          it.cut === undefined || spaces.length === 0
            ? -1
            : (spaces[Math.min(spaces.length - 1, Math.floor(it.cut * spaces.length))] as number);
        if (at < 0) lines.push(quote(whole));
        else lines.push(quote(whole.slice(0, at)), quote(whole.slice(at + 1)));
      }
      const got = read(lines);
      assert.deepEqual(got.map(reading), want, lines.join('\n'));
      assert.deepEqual(
        got.map((m) => m.line),
        firstLines,
      );
    }),
    { numRuns: 300 },
  );
});

test('the report keeps each message on its first physical line, with its last', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paste-'));
  const f = path.join(dir, 'mail.txt');
  fs.writeFileSync(
    f,
    [
      'On Tue, someone wrote:',
      '> [  37.486584] udl 2-1.2:1.0: swiotlb buffer is full (sz: 536576 bytes),',
      '> total 32768 (slots), used 1536 (slots)',
      '> [  37.486591] udl 2-1.2:1.0: overflow 0x000000011a47d000+536576 of DMA',
      '> mask ffffffff bus mask 0',
      '',
    ].join('\n'),
  );
  const r = buildReport(await analyzeText([f], { events: undefined }));
  assert.deepEqual(
    r.log.messages.map((m) => [m.line, m.line_end, m.kind]),
    [
      [2, 3, 'full'],
      [4, 5, 'overflow'],
    ],
  );
});
