/**
 * The CLI as scripts use it: output lines, exit codes, errors that name the file and line.
 * In-process through main (cli-helpers.ts); the last suite starts real processes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { CLI, cli, cliProcess, ROOT } from './cli-helpers';

const FIX = path.join(ROOT, 'test', 'fixtures');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'));

const HEADER = '{"op":"init","nslabs":256,"nareas":1,"pool_base":"0x80000000","kernel":"6.1"}';
function opsFile(name: string, ...lines: string[]): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

describe('replay', () => {
  test('one JSON line per op, as replay-format.md shows', async () => {
    const r = await cli('replay', path.join(FIX, 'golden', 'mainline', 'align.jsonl.gz'));
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    assert.equal(lines.length, 4000);
    assert.equal(lines[7], '{"id":7,"ok":true,"index":48,"offset":3980,"tlb_addr":"0x9c018f8c","used":36}');
    assert.ok(lines.includes('{"id":7,"freed_slots":18,"used":64}'));
    for (const l of lines) JSON.parse(l);
  });

  test('--check: summary line, exit 0', async () => {
    const r = await cli('replay', path.join(FIX, 'golden', '6.1', 'nvme.jsonl.gz'), '--check');
    assert.equal(r.code, 0);
    assert.equal(r.out, '6000 ops, 0 mismatches, 0 races\n');
  });

  test('--check on the raced real run: the race is reported, not a mismatch', async () => {
    const r = await cli('replay', path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2.ops.jsonl.gz'), '--check');
    assert.equal(r.code, 0);
    const lines = r.out.trim().split('\n');
    assert.match(lines[0] as string, /:line 539: map id 270: race: /);
    assert.equal(lines[1], '6902 ops, 0 mismatches, 1 races');
  });

  test('--check with a wrong answer: the mismatch names the line; exit 1', async () => {
    const f = opsFile(
      'wrong.jsonl',
      HEADER,
      '{"op":"map","id":1,"cpu":0,"orig":"0x100000000","size":4096,"expect":{"ok":true,"index":0,"offset":0,"tlb_addr":"0x80000000"},"used":2}',
      '{"op":"map","id":2,"cpu":0,"orig":"0x100001000","size":4096,"expect":{"ok":true,"index":5,"offset":0,"tlb_addr":"0x80002800"},"used":4}',
    );
    const r = await cli('replay', f, '--check');
    assert.equal(r.code, 1);
    assert.equal(
      r.out,
      `${f}:line 3: map id 2: index 2, expected 5; tlb_addr 0x80001000, expected 0x80002800\n2 ops, 1 mismatches, 0 races\n`,
    );
  });

  test('observed_index: the prediction is reported, the kernel is followed', async () => {
    const f = opsFile(
      'observed.jsonl',
      HEADER,
      '{"op":"map","id":1,"cpu":0,"orig":"0x100000000","size":2048,"observed_index":10}',
      '{"op":"map","id":2,"cpu":0,"orig":"0x100000000","size":2048}',
      '{"op":"unmap","id":1}',
    );
    const r = await cli('replay', f);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.out.trim().split('\n'), [
      '{"id":1,"ok":true,"index":0,"offset":0,"tlb_addr":"0x80000000","observed_index":10,"used":1}',
      '{"id":2,"ok":true,"index":11,"offset":0,"tlb_addr":"0x80005800","used":2}',
      '{"id":1,"freed_slots":1,"used":1}',
    ]);
  });

  test('--kernel overrides the header; 5.10 refuses alloc ops', async () => {
    const f = opsFile('alloc.jsonl', HEADER, '{"op":"alloc","id":1,"cpu":0,"size":4096}');
    assert.equal((await cli('replay', f)).code, 0);
    const r = await cli('replay', f, '--kernel', '5.10');
    assert.equal(r.code, 2);
    assert.match(r.err, /alloc.jsonl:2: "alloc" ops need restricted DMA pools/);
  });

  test('--summary and --summary --json', async () => {
    const f = path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2.ops.jsonl.gz');
    const t = await cli('replay', f, '--summary', '--check');
    assert.equal(t.code, 0);
    assert.match(t.out, /peak occupancy {2}512 slots = 100 % of the pool/);
    assert.match(t.out, /0000:00:03\.0: swiotlb buffer is full \(sz: 258048 bytes\), total 512 \(slots\), used 252 \(slots\)/);
    const j = JSON.parse((await cli('replay', f, '--summary', '--json', '--check')).out);
    assert.equal(j.pool.nslabs, 512);
    assert.equal(j.maps.failed, 12);
    assert.deepEqual(j.check, { compared: 3457, matched: 3456, mismatches: 0, races: 1, followed: 1 });
  });
});

describe('bad input: a clear message with file and line, exit 2, no stack trace', () => {
  const cases: [string, string[], RegExp][] = [
    ['badjson', [HEADER, '{"op":"map",'], /badjson.jsonl:2: not valid JSON/],
    ['unknownop', [HEADER, '{"op":"frobnicate","id":1}'], /unknownop.jsonl:2: unknown op "frobnicate"/],
    ['unknownid', [HEADER, '{"op":"unmap","id":42}'], /unknownid.jsonl:2: unknown id 42/],
    ['missing', [HEADER, '{"op":"map","id":1,"cpu":0,"size":10}'], /missing.jsonl:2: missing field "orig"/],
    [
      'mask',
      [HEADER, '{"op":"map","id":1,"cpu":0,"orig":"0x1000","size":10,"boundary":"0x1234"}'],
      /mask.jsonl:2: "boundary" 0x1234 is not of the form 2\^k-1/,
    ],
    ['header', ['{"op":"map","id":1}'], /header.jsonl:1: the first line must be the header/],
    ['nareas', ['{"op":"init","nslabs":256,"nareas":3,"pool_base":"0x0"}'], /nareas.jsonl:1: "nareas" must be a power of two/],
    ['size0', [HEADER, '{"op":"map","id":1,"cpu":0,"orig":"0x1000","size":0}'], /size0.jsonl:2: "size" must be an integer >= 1/],
    [
      'dup',
      [HEADER, '{"op":"map","id":1,"cpu":0,"orig":"0x1000","size":10}', '{"op":"map","id":1,"cpu":0,"orig":"0x1000","size":10}'],
      /dup.jsonl:3: id 1 is still mapped \(line 2\)/,
    ],
    [
      'kernel',
      ['{"op":"init","nslabs":256,"nareas":1,"pool_base":"0x0","kernel":"4.19"}'],
      /kernel.jsonl:1: unknown kernel profile "4.19"/,
    ],
    [
      'addr',
      [HEADER, '{"op":"map","id":1,"cpu":0,"orig":"0xfffffffffffffffff","size":10}'],
      /addr.jsonl:2: "orig" 0xfffffffffffffffff does not fit in 64 bits/,
    ],
  ];
  for (const [name, lines, re] of cases) {
    test(name, async () => {
      const r = await cli('replay', opsFile(`${name}.jsonl`, ...lines));
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, re);
      assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
    });
  }
  test('earlier lines are still printed before the error', async () => {
    const r = await cli('replay', opsFile('late.jsonl', HEADER, '{"op":"map","id":1,"cpu":0,"orig":"0x1000","size":10}', 'garbage'));
    assert.equal(r.code, 2);
    assert.equal(r.out.trim().split('\n').length, 1);
  });
  test('empty file, missing file, a directory, corrupt gzip', async () => {
    assert.match((await cli('replay', opsFile('empty.jsonl'))).err, /empty.jsonl:1: empty file/);
    const missing = await cli('replay', path.join(tmp, 'nope.jsonl'));
    assert.equal(missing.code, 2);
    assert.match(missing.err, /nope.jsonl: no such file/);
    assert.equal((await cli('replay', tmp)).code, 2);
    const gz = path.join(tmp, 'bad.jsonl.gz');
    // gzip magic, then garbage
    fs.writeFileSync(gz, Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), Buffer.from('not deflate data at all')]));
    const r = await cli('replay', gz);
    assert.equal(r.code, 2);
    assert.match(r.err, /corrupt gzip/);
    // compression is told by content, not by the name
    const plain = path.join(tmp, 'plain.jsonl.gz');
    fs.writeFileSync(plain, 'not gzip at all');
    const p = await cli('replay', plain);
    assert.equal(p.code, 2);
    assert.match(p.err, /plain.jsonl.gz:1: not valid JSON/);
  });
  test('usage errors', async () => {
    assert.equal((await cli()).code, 2);
    assert.equal((await cli('frob')).code, 2);
    const r = await cli('replay', 'x.jsonl', '--kernel', '4.4');
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown kernel profile "4.4"/);
    assert.match((await cli('replay', '--bogus')).err, /Unknown option '--bogus'/);
  });
});

describe('help and pool', () => {
  test('--help and per-command help', async () => {
    const h = await cli('--help');
    assert.equal(h.code, 0);
    assert.match(h.out, /Commands:\n {2}analyze PATH .*\n {2}replay FILE/);
    assert.match((await cli('replay', '--help')).out, /Usage: swiotlb-lens replay FILE/);
    assert.match((await cli('help', 'pool')).out, /Usage: swiotlb-lens pool/);
  });
  test('pool --json', async () => {
    const r = await cli('pool', '--cmdline', 'quiet swiotlb=100,force', '--cpus', '2', '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.deepEqual([j.created, j.nslabs, j.nareas, j.force_bounce], [true, 256, 2, true]);
    assert.deepEqual(j.log, [
      'software IO TLB: area num 2.',
      'software IO TLB: SWIOTLB bounce buffer size roundup to 0MB',
      'PCI-DMA: Using software bounce buffering for IO (SWIOTLB)',
      'software IO TLB: mapped [mem <start>-<start+524288>] (0MB)',
    ]);
  });
});

describe('analyze: scenarios', () => {
  const EX = path.join(ROOT, 'examples');
  test('--json: the per-call decisions and a summary', async () => {
    const r = await cli('analyze', path.join(EX, 'xen-pv-dom0-straddle.swiotlb.json'), '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.input.kind, 'scenario');
    assert.equal(j.platform.id, 'xen-pv-dom0');
    assert.equal(j.pool.nslabs, 32768);
    assert.equal(j.pool.segment_machine_bases[0], '0x1c0000');
    const bounced = j.calls.find((c: { result: string }) => c.result === 'bounced');
    for (const k of [
      'index',
      'line',
      'call',
      'device',
      'size',
      'dir',
      'result',
      'reasons',
      'reason_texts',
      'phys',
      'bus',
      'dma',
      'slot',
      'nslots',
      'copied',
      'cache',
      'messages',
    ]) {
      assert.ok(k in bounced, k);
    }
    assert.deepEqual(bounced.reasons, ['xen-straddle']);
    assert.equal(j.summary.maps, 3);
    assert.deepEqual(j.diagnostics, []);
  });
  test('--compare adds the xen-swiotlb vs unified comparison', async () => {
    const r = await cli('analyze', path.join(EX, 'xen-pv-boundary-compare.swiotlb.json'), '--json', '--compare');
    const c = JSON.parse(r.out).comparison;
    assert.equal(c.byCause['segment-boundary-space'], 1);
    assert.ok(c.boundaryCrossings.kernel > 0);
  });
  test('--kernel and --platform override the file', async () => {
    const j = JSON.parse(
      (await cli('analyze', path.join(EX, 'nic-32bit-above-4g.swiotlb.json'), '--json', '--kernel', '5.10', '--platform', 'sev-guest')).out,
    );
    assert.equal(j.kernel.name, '5.10');
    assert.equal(j.summary.direct, 0, 'an SEV guest bounces everything');
  });
  test('a readable report without --json', async () => {
    const r = await cli('analyze', path.join(EX, 'arm64-noncoherent-kmalloc.swiotlb.json'));
    assert.equal(r.code, 0);
    assert.match(r.out, /bounced because kmalloc 1/);
    assert.match(r.out, /line 10 dma_map_single fe320000\.mmc 24 B DMA_FROM_DEVICE: bounced \[kmalloc\]/);
  });
  test('a bad scenario: every problem as FILE:LINE:COLUMN: PATH: message, exit 2', async () => {
    const f = path.join(tmp, 'bad.swiotlb.json');
    fs.writeFileSync(
      f,
      '{\n  "platform": "x86",\n  "kernel": "6.1",\n  "workload": [],\n  "devices": [{ "name": "a", "dma_mask": "0x1234" }]\n}\n',
    );
    const r = await cli('analyze', f);
    assert.equal(r.code, 2);
    assert.equal(
      r.err,
      `${f}:5:42: $.devices[0].dma_mask: dma_mask 0x1234 is not of the form 2^k-1 (e.g. "0xffffffff", or 32 for DMA_BIT_MASK(32))\n`,
    );
    const j = JSON.parse((await cli('analyze', f, '--json')).out);
    assert.deepEqual(j.diagnostics[0], {
      line: 5,
      column: 42,
      path: '$.devices[0].dma_mask',
      message: 'dma_mask 0x1234 is not of the form 2^k-1 (e.g. "0xffffffff", or 32 for DMA_BIT_MASK(32))',
    });
  });
});

describe('as a process: exit status, the two streams, a closed pipe', () => {
  test('a mismatch: the report on stdout, nothing on stderr, exit 1', () => {
    const f = opsFile(
      'wrong-process.jsonl',
      HEADER,
      '{"op":"map","id":1,"cpu":0,"orig":"0x100000000","size":4096,"expect":{"ok":true,"index":3,"offset":0,"tlb_addr":"0x80001800"},"used":2}',
    );
    const r = cliProcess('replay', f, '--check');
    assert.equal(r.code, 1);
    assert.match(r.out, /wrong-process.jsonl:line 2: map id 1: index 0, expected 3/);
    assert.equal(r.err, '');
  });
  test('bad input: the message on stderr, the lines before it on stdout, exit 2', () => {
    const r = cliProcess('replay', opsFile('late-process.jsonl', HEADER, '{"op":"map","id":1,"cpu":0,"orig":"0x1000","size":10}', '{'));
    assert.equal(r.code, 2);
    assert.equal(r.out.trim().split('\n').length, 1);
    assert.match(r.err, /late-process.jsonl:3: not valid JSON/);
    const usage = cliProcess('frob');
    assert.equal(usage.code, 2);
    assert.equal(usage.out, '');
    assert.match(usage.err, /unknown command "frob"/);
  });
  test('a reader that goes away (| head -1): the rest is dropped quietly, exit 0', async () => {
    const f = path.join(FIX, 'golden', 'mainline', 'align.jsonl.gz');
    const r = spawnSync(
      'bash',
      ['-c', '"$0" --import tsx "$1" replay "$2" | head -n 1; echo "exit $PIPESTATUS" >&2', process.execPath, CLI, f],
      {
        encoding: 'utf8',
        cwd: ROOT,
      },
    );
    const all = (await cli('replay', f)).out;
    assert.ok(all.length > 1 << 16, 'more than one buffer of output');
    assert.equal(r.stdout, all.slice(0, all.indexOf('\n') + 1));
    assert.equal(r.stderr, 'exit 0\n');
  });
});
