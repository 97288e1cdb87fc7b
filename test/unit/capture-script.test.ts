/**
 * The capture script is plain POSIX sh: it parses under dash (and busybox when present), its
 * help is its header, and it refuses to run without root. (It is run for real in 6.1, 6.12 and 7.x
 * kernels by `npm run test:kernel`; kernel7.test.ts checks a real 7.x capture.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const SCRIPT = path.join(__dirname, '..', '..', 'media', 'capture', 'swiotlb-capture.sh');

test('parses under every shell at hand', () => {
  const shells = ['/bin/sh', '/usr/bin/dash', '/bin/dash', '/bin/bash'].filter((s) => fs.existsSync(s));
  if (fs.existsSync('/bin/busybox')) shells.push('/bin/busybox');
  assert.ok(shells.length > 0);
  for (const sh of shells) {
    const args = sh.endsWith('busybox') ? ['sh', '-n', SCRIPT] : ['-n', SCRIPT];
    const r = spawnSync(sh, args, { encoding: 'utf8' });
    assert.equal(r.status, 0, `${sh}: ${r.stderr}`);
  }
});

test('-h prints the usage; a bad mode is refused', () => {
  const r = spawnSync('sh', [SCRIPT, '-h'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^swiotlb-capture\.sh: records what SWIOTLB Lens needs/);
  assert.match(r.stdout, /-m MODE {5}dma: the dma:\* tracepoints/);
  const bad = spawnSync('sh', [SCRIPT, '-x'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
});

test('the script is executable and shipped in media/', () => {
  assert.equal(fs.statSync(SCRIPT).mode & 0o111, 0o111);
  const ignore = fs.readFileSync(path.join(__dirname, '..', '..', '.vscodeignore'), 'utf8');
  assert.match(ignore, /^!media\/\*\*$/m);
});
