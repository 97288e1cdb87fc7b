/** Text or binary: only text is read as a kernel log; binary input is refused with the reason. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { knownBinaryFormat, looksLikeText } from '../../src/io/textCheck';

const ROOT = path.join(__dirname, '..', '..');
const LOG = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'logs-real', '19-udl-prime-import-wrapped-default-pool.log'));

function random(n: number, seed = 7): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

test('real logs are text: UTF-8 with NBSPs, ANSI colours, Latin-1 accents, a NUL run after an unclean shutdown', () => {
  assert.deepEqual(looksLikeText(LOG), { text: true });
  assert.deepEqual(looksLikeText(Buffer.from('\x1b[33m[    8.1] \x1b[0mswiotlb buffer is full (sz: 4096 bytes)\n')), { text: true });
  const latin1 = Buffer.from('juil. 29 14:38:52 h\xf4te kernel: xhci_hcd 0000:01:00.0: d\xe9j\xe0 vu\n'.repeat(50), 'latin1');
  assert.deepEqual(looksLikeText(latin1), { text: true });
  const padded = Buffer.concat([LOG, Buffer.alloc(4096), LOG]);
  assert.deepEqual(looksLikeText(padded), { text: true });
  assert.deepEqual(looksLikeText(Buffer.alloc(0)), { text: true });
});

test('random bytes, scattered NULs, UTF-16 and invalid UTF-8 are not text, with the reason', () => {
  const r = looksLikeText(random(65536));
  assert.equal(r.text, false);
  assert.match((r as { reason: string }).reason, /NUL or control bytes/);
  // text with every 50th byte a NUL: not a padding run
  const sprinkled = Buffer.from(LOG);
  for (let i = 0; i < sprinkled.length; i += 50) sprinkled[i] = 0;
  assert.equal(looksLikeText(sprinkled).text, false);
  assert.match((looksLikeText(Buffer.from('\ufeffhello', 'utf16le')) as { reason: string }).reason, /UTF-16/);
  // high bytes only (no control bytes): too much that is not UTF-8
  const high = Buffer.alloc(4000, 0xe9);
  assert.match((looksLikeText(high) as { reason: string }).reason, /not UTF-8/);
  assert.match((looksLikeText(Buffer.alloc(8192)) as { reason: string }).reason, /only NUL bytes/);
});

test('known binary formats are named', () => {
  const dat = Buffer.concat([Buffer.from([0x17, 0x08, 0x44]), Buffer.from('tracing6'), random(100)]);
  // trace.dat is read (the router's trace.dat sniffer comes before this check): not named as refused
  assert.equal(knownBinaryFormat(dat), null);
  assert.match(knownBinaryFormat(Buffer.from('PERFILE2....')) ?? '', /perf\.data/);
  assert.match(knownBinaryFormat(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1])) ?? '', /ELF/);
  assert.equal(knownBinaryFormat(LOG), null);
});

test('the CLI refuses a binary file: exit 2 and "FILE: reason"; gzipped binary too', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'text-check-'));
  const bin = path.join(dir, 'random.log');
  fs.writeFileSync(bin, random(20000));
  const gz = path.join(dir, 'random.log.gz');
  fs.writeFileSync(gz, gzipSync(random(20000, 3)));
  for (const f of [bin, gz]) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), 'analyze', f, '--json'], {
      encoding: 'utf8',
      cwd: ROOT,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^swiotlb-lens: ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not text: `));
  }
});
