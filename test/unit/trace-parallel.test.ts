/**
 * Parsing in worker threads changes nothing: the same report as the single-threaded reader, on a
 * real trace and on a synthetic dma:* trace with scatterlists, CRLF, garbage, over-long lines and
 * blocks cut anywhere.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { type SynthOptions, synthDmaTrace, synthDmesg } from '../../scripts/synthTrace';
import { buildReport, type TextReport } from '../../src/trace/report';
import { analyzeText, type ParseWorkers } from '../../src/trace/run';
import { bundleWorker } from './bundle';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parallel-'));
// the worker bundled as the build bundles it
const script = bundleWorker('src/trace/parseWorker.ts', path.join(tmp, 'parseWorker.js'));
const WORKERS = (count: number): ParseWorkers => ({ count, script, minBytes: 0 });

async function both(dir: string): Promise<[TextReport, TextReport]> {
  const seq = buildReport(await analyzeText([dir], { parseWorkers: null, noSizing: true }));
  const par = buildReport(await analyzeText([dir], { parseWorkers: WORKERS(2), noSizing: true }));
  return [seq, par];
}

test('a real 6.1 trace: the same report either way', async () => {
  const dir = path.join(tmp, 'b');
  fs.mkdirSync(dir);
  const run = path.join(__dirname, '..', 'fixtures', 'kernel-6.1', 'b_small_pool_smp2');
  fs.writeFileSync(path.join(dir, 'trace.txt'), gunzipSync(fs.readFileSync(path.join(run, 'trace.txt.gz'))));
  fs.copyFileSync(path.join(run, 'dmesg.txt.gz'), path.join(dir, 'dmesg.txt.gz'));
  fs.copyFileSync(path.join(run, 'cmdline.txt'), path.join(dir, 'cmdline.txt'));
  const [seq, par] = await both(dir);
  assert.deepEqual(par, seq);
  assert.equal(par.check.matched, 3456);
});

test('a synthetic dma:* trace with damage: the same report either way', async () => {
  const o: SynthOptions = {
    seed: 11,
    profile: 'mainline',
    base: 0xbbfdb000,
    nslabs: 2048,
    nareas: 4,
    cpus: 4,
    devices: [
      { name: '0000:00:03.0', driver: 'nvme', minAlign: 0xfff, dmaMask: 2 ** 64, forced: true, maxSize: 131072, sgShare: 0.3 },
      { name: '0000:00:04.0', driver: 'ahci', minAlign: 0, dmaMask: 0xffffffff, forced: false, maxSize: 65536, sgShare: 0.3 },
    ],
    lines: 40000,
    live: 80,
    sgCounts: true,
  };
  const lines: string[] = [];
  synthDmaTrace(o, (l) => lines.push(l));
  lines.splice(5000, 0, 'y'.repeat(3 << 20)); // an over-long line across block boundaries
  lines.splice(9000, 0, '\u0000\u0007 garbage \u00fe');
  lines.splice(12000, 0, '[   12.5] nvme 0000:00:03.0: swiotlb buffer is full (sz: 4096 bytes), total 2048 (slots), used 2040 (slots)');
  const dir = path.join(tmp, 'synth');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'trace.txt'), `${lines.join('\r\n')}`);
  fs.writeFileSync(path.join(dir, 'dmesg.txt'), `${synthDmesg(o).join('\n')}\n`);
  const [seq, par] = await both(dir);
  assert.deepEqual(par, seq);
  assert.ok(par.diagnostics.some((d) => d.line === 5001 && /too long/.test(d.message)));
  assert.ok(par.diagnostics.some((d) => d.line === 9001 && /not a trace event line/.test(d.message)));
  assert.equal(par.log.full_messages, 1);
});
