/**
 * `analyze` for traces and logs as scripts use it: one JSON object with the contract's fields,
 * a report for people without --json, options reflected in the output, capture folders and
 * archives opened as a whole, errors with exit status 2.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, cli as swiotlbLens } from './cli-helpers';

const FIX = path.join(ROOT, 'test', 'fixtures');
const RUN_B = path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-analyze-'));

const cli = (...args: string[]) => swiotlbLens('analyze', ...args);

async function json(...args: string[]): Promise<Record<string, Record<string, unknown>>> {
  const r = await cli(...args, '--json');
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as Record<string, Record<string, unknown>>;
}

describe('analyze --json: the contract', () => {
  test('a capture folder (trace + dmesg + cmdline)', async () => {
    const j = await json(RUN_B);
    assert.equal(j.input?.kind, 'trace+log');
    assert.deepEqual(
      ['maps', 'unmaps', 'failed', 'bounced', 'bounced_forced'].map((k) => j.counts?.[k]),
      [3457, 3445, 12, 3457, 3457],
    );
    assert.deepEqual([j.pool?.nslabs, j.pool?.nareas, j.pool?.base], [512, 2, '0x7d500000']);
    assert.equal(j.occupancy?.peak_slots, 512);
    assert.deepEqual([j.check?.compared, j.check?.matched], [3457, 3456]);
    assert.deepEqual([j.log?.full_messages, j.log?.too_big, j.log?.overflow_messages], [7, 0, 0]);
    assert.ok(Array.isArray(j.diagnostics));
    // where the geometry came from is part of the output
    const src = j.pool?.sources as Record<string, string>;
    assert.match(src.nslabs as string, /buffer is full \.\.\. total 512 \(slots\)/);
    assert.match(src.nareas as string, /area num/);
    assert.match(src.base as string, /pool base in the events/);
  });

  test('a log alone: no occupancy, no check (null), log counters', async () => {
    const j = await json(path.join(FIX, 'logs', 'L11.log'));
    assert.equal(j.input?.kind, 'log');
    assert.deepEqual([j.counts?.maps, j.occupancy?.peak_slots, j.check?.compared, j.check?.matched], [0, null, 0, null]);
    assert.deepEqual([j.log?.full_messages, j.log?.too_big], [2, 1]);
  });

  test('options: --cmdline, --cpus, --kernel, --platform are used and reported', async () => {
    const j = await json(
      path.join(RUN_B, 'trace.txt.gz'),
      '--cmdline',
      'swiotlb=512,force',
      '--cpus',
      '2',
      '--kernel',
      'mainline',
      '--platform',
      'sev-guest',
    );
    // a lone trace is read with the capture files beside it; the options win over what they say
    assert.equal(j.input?.kind, 'trace+log');
    assert.deepEqual([j.pool?.nslabs, j.pool?.nareas], [512, 2]);
    const src = j.pool?.sources as Record<string, string>;
    assert.deepEqual([src.nslabs, src.nareas, src.cpus], ['--cmdline', '--cpus', '--cpus']);
    assert.deepEqual([j.kernel?.profile, j.kernel?.source], ['mainline', '--kernel']);
    assert.equal(j.platform?.name, 'sev-guest');
    assert.deepEqual(j.check?.fits, ['6.1']);
    assert.ok((j.conclusions as unknown as string[]).some((c) => /rerun with --kernel 6\.1/.test(c)));
  });

  test('a capture archive (.tar.gz) is opened as a whole', async () => {
    const tgz = path.join(tmp, 'capture.tar.gz');
    const r = spawnSync('tar', ['-czf', tgz, '-C', RUN_B, 'cmdline.txt', 'dmesg.txt.gz', 'trace.txt.gz']);
    assert.equal(r.status, 0, String(r.stderr));
    const j = await json(tgz);
    assert.equal(j.input?.kind, 'trace+log');
    assert.deepEqual([j.counts?.maps, j.pool?.nslabs, j.occupancy?.peak_slots, j.check?.matched], [3457, 512, 512, 3456]);
    const files = ((j.input?.files ?? []) as unknown as { path: string; role: string }[]).map((f) => [path.basename(f.path), f.role]);
    assert.deepEqual(files, [
      ['capture.tar.gz:cmdline.txt', 'cmdline'],
      ['capture.tar.gz:dmesg.txt.gz', 'log'],
      ['capture.tar.gz:trace.txt.gz', 'trace'],
    ]);
  });

  test('a trace with only swiotlb_bounced: occupancy is said to be unknown', async () => {
    const f = path.join(tmp, 'bounced-only.txt');
    fs.writeFileSync(
      f,
      [
        '# tracer: nop',
        '          dd-171     [001] .....    8.000001: swiotlb_bounced: dev_name: 0000:00:03.0 dma_mask=ffffffff dev_addr=1a2b3c000 size=4096 NORMAL',
        '          dd-171     [001] .....    8.000002: swiotlb_bounced: dev_name: 0000:00:03.0 dma_mask=ffffffffffffffff dev_addr=2a2b3c000 size=4096 FORCE',
      ].join('\n'),
    );
    const j = await json(f);
    assert.deepEqual(
      [j.counts?.bounced, j.counts?.bounced_forced, j.counts?.maps, j.occupancy?.peak_slots, j.check?.matched],
      [2, 1, 0, null, null],
    );
    assert.match(j.occupancy?.basis as string, /not known/);
    assert.ok((j.conclusions as unknown as string[]).some((c) => /Only swiotlb_bounced events/.test(c)));
    const dev = (j.devices as unknown as { beyond_dma_mask: number; forced: number }[])[0];
    assert.deepEqual([dev?.beyond_dma_mask, dev?.forced], [1, 1]);
  });
});

describe('analyze: report, errors', () => {
  test('without --json: a report for people', async () => {
    const r = await cli(RUN_B);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /pool {12}512 slots \(1 MiB\) at 0x7d500000, 2 areas of 256 slots/);
    assert.match(r.out, /peak occupancy {2}512 slots = 100 % of the pool/);
    assert.match(r.out, /6\.1\.192 +3456\/3457 \(100 %\), 1 raced {2}<- fits/);
    assert.match(r.out, /Sizing: swiotlb=1024,force \(2 MiB\)/);
  });

  test('bad usage and missing files: exit 2 with a message', async () => {
    let r = await cli(RUN_B, '--cpus', 'two');
    assert.equal(r.code, 2);
    assert.match(r.err, /--cpus must be a positive integer/);
    r = await cli(path.join(tmp, 'nope.txt'));
    assert.equal(r.code, 2);
    assert.match(r.err, /no such file/);
    r = await cli(RUN_B, '--kernel', '4.19');
    assert.equal(r.code, 2);
  });
});
