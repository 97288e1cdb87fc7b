/**
 * The front door (src/inputs/router.ts): every kind told apart by content, whatever the name or
 * the compression; capture folders and archives expanded; a lone trace or log read with the
 * capture files beside it, a lone C file with its driver's folder; the options that apply to the
 * kind found; mixed kinds and a command asking for the wrong kind refused with the reason.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { analyzeRoute } from '../../src/inputs/analyze';
import { RouteError, routeInputs } from '../../src/inputs/router';
import { sniff } from '../../src/inputs/sniff';

const ROOT = path.join(__dirname, '..', '..');
const FIX = path.join(ROOT, 'test', 'fixtures');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'router-'));
const file = (name: string, content: string | Buffer) => {
  const p = path.join(tmp, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  return p;
};

const SCENARIO = (before = '', pad = 1) => `${before}{
  "name": "late workload",
  "description": "${'x'.repeat(pad)}",
  "platform": "x86",
  "kernel": "6.1",
  "machine": { "cpus": 2, "ram": "8G" },
  "devices": [{ "id": "nic", "name": "0000:03:00.0", "dma_mask": 32 }],
  "workload": [
    { "call": "dma_map_single", "device": "nic", "id": "a", "phys": "0x100000000", "size": 1522, "dir": "DMA_FROM_DEVICE" },
    { "call": "dma_unmap_single", "id": "a" }
  ]
}
`;
const OPS =
  '{"op":"init","nslabs":256,"nareas":1,"pool_base":"0x80000000","kernel":"6.1"}\n{"op":"map","id":1,"cpu":0,"orig":"0x100000000","size":4096}\n';

describe('kinds by content', () => {
  test('replay ops, plain and gzipped, whatever the name', async () => {
    assert.equal((await routeInputs([file('ops.txt', OPS)])).kind, 'replay');
    assert.equal((await routeInputs([file('ops.bin', gzipSync(OPS))])).kind, 'replay');
    assert.equal((await routeInputs([path.join(ROOT, 'examples', 'kernel-6.1-small-pool.jsonl')])).kind, 'replay');
  });

  test('a scenario whose workload key comes after 4 KiB, or that starts with comments, is a scenario', async () => {
    const late = file('late.json', SCENARIO('', 6000));
    const commented = file('commented.json', SCENARIO('// the NIC of issue 10\n/* more\n words */\n'));
    for (const f of [late, commented]) {
      const r = await routeInputs([f]);
      assert.equal(r.kind, 'scenario', f);
      // and the scenario parser reads it as it was sniffed
      const a = await analyzeRoute(r);
      assert.equal(a.kind === 'scenario' && a.scenario.name, 'late workload');
    }
  });

  test('traces, logs, capture folders and archives are one kind; a lone C file and a folder of them another', async () => {
    const run = path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2');
    assert.equal((await routeInputs([run])).kind, 'text');
    assert.equal((await routeInputs([path.join(FIX, 'logs', 'L01.log')])).kind, 'text');
    const tar = path.join(tmp, 'capture.tar.gz');
    assert.equal(spawnSync('tar', ['czf', tar, '-C', run, 'trace.txt.gz', 'dmesg.txt.gz', 'cmdline.txt']).status, 0);
    const archive = await routeInputs([tar]);
    assert.equal(archive.kind === 'text' && archive.inputs.map((f) => f.role).join(','), 'trace,log,cmdline');
    assert.equal((await routeInputs([path.join(ROOT, 'examples', 'source')])).kind, 'source');
    assert.equal((await routeInputs([path.join(ROOT, 'examples', 'source', 'swlblk', 'swlblk.c')])).kind, 'source');
  });

  test('the sniffers in order: a capture file by its name first, the kernel log only when nothing else took it', () => {
    const head = (name: string, text: string) => ({ name, bytes: Buffer.from(text), whole: true });
    assert.equal(sniff(head('cmdline.txt', '{"op":"init"}')).role, 'cmdline');
    assert.equal(sniff(head('x.c', '{"workload": 1}')).kind, 'source');
    assert.deepEqual([sniff(head('t', '# tracer: nop\n')).role, sniff(head('t', 'random words\n')).guess], ['trace', true]);
  });

  test("trace-cmd's trace.dat is a trace read by its own reader; other binary data is refused, in a folder skipped", async () => {
    const dat = path.join(FIX, 'kernel-traces', '6.12-small-pool', 'trace.dat');
    const r = await routeInputs([dat]);
    assert.ok(r.kind === 'text');
    const f = r.inputs.find((i) => i.file === dat);
    assert.deepEqual([f?.role, f?.format], ['trace', 'trace.dat']);
    // the census head is the reader's text, not the binary
    assert.match(f?.head?.toString('latin1', 0, 200) ?? '', /^cpus=\d+\n/);
    const bin = file('noise.bin', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    await assert.rejects(routeInputs([bin]), /not text/);
    const dir = path.join(tmp, 'capture-with-noise');
    fs.mkdirSync(dir);
    fs.copyFileSync(bin, path.join(dir, 'noise.bin'));
    fs.writeFileSync(path.join(dir, 'dmesg.txt'), 'Linux version 6.1.0\n');
    const c = await routeInputs([dir]);
    assert.ok(c.kind === 'text');
    assert.deepEqual(
      c.inputs.map((i) => [path.basename(i.file), i.role, i.skipped !== undefined]),
      [
        ['dmesg.txt', 'log', false],
        ['noise.bin', 'ignore', true],
      ],
    );
  });
});

describe('companions and options', () => {
  test('a lone trace or log is read with the capture files beside it; a lone C file with its driver', async () => {
    const run = path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2');
    const r = await routeInputs([path.join(run, 'trace.txt.gz')]);
    assert.deepEqual(
      r.files.map((f) => path.basename(f)),
      ['trace.txt.gz', 'cmdline.txt', 'dmesg.txt.gz'],
    );
    const two = await routeInputs([path.join(run, 'trace.txt.gz'), path.join(run, 'dmesg.txt.gz')]);
    assert.equal(two.files.length, 2, 'files chosen together are read as chosen');
    const c = await routeInputs([path.join(ROOT, 'examples', 'source', 'swlnic', 'swlnic_main.c')]);
    assert.deepEqual(c.kind === 'source' && c.context.map((f) => path.basename(f)), ['swlnic.h']);
  });

  test('each kind takes the options that apply to it', async () => {
    const all = { kernel: '6.12', platform: 'x86', cmdline: 'swiotlb=4096', cpus: 2, compare: true, sourceDefaults: 'ram=8G' };
    const scenario = await routeInputs([file('s.json', SCENARIO())], all);
    assert.deepEqual(scenario.options, { kernel: '6.12', platform: 'x86', compare: true });
    assert.deepEqual(scenario.ignored, ['cmdline', 'cpus', 'sourceDefaults']);
    const replay = await routeInputs([file('o.jsonl', OPS)], all);
    assert.deepEqual(replay.options, { kernel: '6.12' });
    const trace = await routeInputs([path.join(FIX, 'logs', 'L01.log')], all);
    assert.deepEqual(trace.options, { kernel: '6.12', platform: 'x86', cmdline: 'swiotlb=4096', cpus: 2 });
  });

  test('mixed kinds, several scenarios, a command asking for another kind: refused with the reason', async () => {
    const s = file('one.json', SCENARIO());
    await assert.rejects(
      routeInputs([s, file('o2.jsonl', OPS)]),
      (e: Error) => e instanceof RouteError && /one kind at a time/.test(e.message),
    );
    await assert.rejects(routeInputs([s, file('two.json', SCENARIO())]), /one file at a time/);
    await assert.rejects(routeInputs([s], { expect: 'replay' }), /is not replay ops: it is a scenario/);
    // a damaged ops file (no recognisable content) is what the command asked for: its reader says what is wrong
    const damaged = await routeInputs([file('damaged.jsonl', '{"op":"map"\n')], { expect: 'replay' });
    assert.equal(damaged.kind, 'replay');
  });
});

describe('the title names the files read', () => {
  test('up to four by name, then how many more; a duplicate is not among them', async () => {
    const { filesTitle } = await import('../../src/inputs/analyze');
    assert.equal(filesTitle(['/a/trace.txt.gz', '/a/dmesg.txt', '/b/x.tar:cmdline.txt']), 'trace.txt.gz, dmesg.txt, x.tar:cmdline.txt');
    assert.equal(filesTitle(['a', 'b', 'c', 'd', 'e', 'f']), 'a, b, c + 3 more');
    const r = await routeInputs([path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2', 'trace.txt.gz')]);
    assert.equal(r.kind, 'text');
    if (r.kind === 'text') assert.equal(filesTitle(r.used), 'trace.txt.gz, cmdline.txt, dmesg.txt.gz');
  });
});
