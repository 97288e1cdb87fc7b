/** "Explain Selected Log Line" on real kernel messages from public bug reports (test/fixtures/logs). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { explainAnalysedLine, explainLogLine, explainLogLines } from '../../src/trace/explainLine';
import { analyzeText } from '../../src/trace/run';

const LOGS = path.join(__dirname, '..', 'fixtures', 'logs');

function line(re: RegExp): string {
  for (const f of fs.readdirSync(LOGS)) {
    for (const l of fs.readFileSync(path.join(LOGS, f), 'utf8').split('\n')) if (re.test(l)) return l;
  }
  throw new Error(`no fixture line matches ${re}`);
}

test('a full pool', () => {
  const e = explainLogLines([line(/rtl8192ee .*buffer is full .*used 32768/)]);
  assert.equal(e?.kind, 'full');
  assert.equal(e?.cause, 'pool-full');
  assert.equal(e?.device, '0000:05:00.0');
  assert.match(e?.title ?? '', /4000 byte bounce buffer \(2 slots\)/);
  assert.match(e?.text ?? '', /32768 of 32768 slots \(100 %\) were in use/);
});

test('beyond the 256 KiB ceiling: no pool size helps', () => {
  const e = explainLogLines([line(/facetimehd .*buffer is full \(sz: 1048576 bytes\)/)]);
  assert.equal(e?.cause, 'too-big');
  assert.match(e?.text ?? '', /above the 256 KiB ceiling/);
});

test('an old kernel message without the pool figures, with the pool size from the session', () => {
  const e = explainLogLines([line(/bcm2835-dma .*buffer is full \(sz: 1536 bytes\)$/)], { nslabs: 32768 });
  assert.equal(e?.kind, 'full');
  assert.equal(e?.cause, null);
  assert.match(e?.text ?? '', /1 contiguous slots were not found in a pool of 32768 slots|were not found in a pool of 32768 slots/);
  const o = explainLogLines([line(/Out of SW-IOMMU space for 65536 bytes/)]);
  assert.equal(o?.kind, 'out-of-space');
});

test('the pool line at boot, and lines that are not swiotlb messages', () => {
  const e = explainLogLines([line(/software IO TLB: mapped \[mem 0x6e42a000-0x7242a000\] \(64MB\)/)]);
  assert.equal(e?.kind, 'mapped');
  assert.match(e?.title ?? '', /at 0x6e42a000: 32768 slots \(64 MiB\)/);
  assert.equal(explainLogLines(['[    1.0] usb 1-1: new high-speed USB device', '']), null);
  assert.equal(explainLogLines([]), null);
});

/** The issue-14 neighbourhood: a failure, dma-direct's overflow report of it, its WARN, then another device. */
const NEIGHBOURHOOD = [
  '[  100.100000] usb 2-1: new SuperSpeed USB device',
  '[  100.200001] nvme 0000:01:00.0: swiotlb buffer is full (sz: 536576 bytes), total 32768 (slots), used 32768 (slots)',
  '[  100.200002] nvme 0000:01:00.0: overflow 0x000000040000000+536576 of DMA mask 7ffffffff bus mask 3fffffff',
  '[  100.200003] ------------[ cut here ]------------',
  '[  100.200004] WARNING: CPU: 1 PID: 749 at kernel/dma/direct.c:35 report_addr+0x3e/0x70',
  '[  100.300000] ahci 0000:00:1f.2: swiotlb buffer is full (sz: 4096 bytes), total 32768 (slots), used 32768 (slots)',
];

test("an overflow line right after the same device's failure is that failure, beyond the bus limit only", () => {
  const e = explainLogLine(NEIGHBOURHOOD, 3);
  assert.equal(e?.kind, 'overflow');
  assert.equal(e?.logCause, 'too-big');
  assert.equal(e?.cause, 'too-big');
  assert.equal(e?.sizeHelps, false);
  assert.match(
    e?.title ?? '',
    /nvme 0000:01:00\.0 mapped 0x40000000 \(536576 bytes\) beyond its bus limit 0x3fffffff \(it is within the DMA mask 0x7ffffffff/,
  );
  assert.doesNotMatch(`${e?.title} ${e?.text}`, /no swiotlb pool|beyond its DMA mask/);
  assert.deepEqual(e?.eventLines, [2, 3, 4, 5]);
  // alone, the same line is a device limited by the bus, with no bounce seen
  const alone = explainLogLine([NEIGHBOURHOOD[2] as string], 1);
  assert.equal(alone?.logCause, 'mask-limited');
  assert.match(alone?.text ?? '', /no bounce buffer was got for it/);
});

test("a WARNING line explains its own report, not the next device's line", () => {
  const e = explainLogLine(NEIGHBOURHOOD, 5);
  assert.equal(e?.kind, 'warn');
  assert.equal(e?.device, '0000:01:00.0');
  assert.match(
    e?.text ?? '',
    /WARN report \(at kernel\/dma\/direct\.c:35 report_addr\+0x3e\/0x70\) of nvme 0000:01:00\.0's failed map \(too-big\)/,
  );
  // what the editor gives today: the selected line and the next
  const sel = explainLogLines(NEIGHBOURHOOD.slice(4));
  assert.equal(sel?.kind, 'warn');
  assert.equal(sel?.line, 1);
  assert.match(sel?.text ?? '', /dma-direct's WARN for a buffer beyond a device's DMA mask/);
  assert.equal(explainLogLine(NEIGHBOURHOOD, 6)?.device, '0000:00:1f.2');
  assert.equal(explainLogLine(NEIGHBOURHOOD, 1), null);
});

test('any line of a wrapped message explains the whole message, from its first line', () => {
  const lines = [
    '>>> [  37.486584] udl 2-1.2:1.0: swiotlb buffer is full (sz: 536576 bytes),',
    '>>> total 32768 (slots), used 1536 (slots)',
    '>>> [  37.486591] udl 2-1.2:1.0: overflow 0x000000011a47d000+536576 of DMA',
    '>>> mask ffffffff bus mask 0',
  ];
  const e = explainLogLine(lines, 2);
  assert.deepEqual([e?.kind, e?.line, e?.endLine, e?.logCause], ['full', 1, 2, 'too-big']);
  assert.match(e?.text ?? '', /The overflow line that follows is dma-direct reporting this same map/);
  const o = explainLogLine(lines, 4);
  assert.deepEqual([o?.kind, o?.line, o?.endLine, o?.logCause], ['overflow', 3, 4, 'too-big']);
  assert.match(o?.title ?? '', /beyond its DMA mask 0xffffffff$/);
});

test("from an analysis' reading of the whole log: the same explanation, the file's own line numbers", async () => {
  const file = path.join(__dirname, '..', 'fixtures', 'logs-real', '19-udl-prime-import-wrapped-default-pool.log');
  const an = (await analyzeText([file])).analyzer;
  const e = explainAnalysedLine(an.log, file, 4);
  assert.deepEqual([e?.kind, e?.line, e?.endLine, e?.logCause], ['overflow', 3, 4, 'too-big']);
  assert.deepEqual(e?.eventLines, [1, 3, 5, 6, 8, 10]);
  assert.equal(explainAnalysedLine(an.log, file, 200), null);
  assert.equal(explainAnalysedLine(an.log, 'other.log', 4), null);
});
