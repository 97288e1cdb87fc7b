/** "Explain Selected Log Line" on real kernel messages from public bug reports (test/fixtures/logs). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { explainLogLines } from '../../src/trace/explainLine';

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
