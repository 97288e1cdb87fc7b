/**
 * Golden data: every vendored file of the kernel's own allocator (6.1 and mainline) and every
 * real 6.1.192 kernel run replays with 0 mismatches; the traps of the golden README answer as
 * the kernel does; and the check itself is discriminating (a wrong profile fails it).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { ReplayOp } from '../../src/replay/format';
import type { OpOutcome } from '../../src/replay/replay';
import { runReplay } from '../../src/replay/run';

const FIX = path.join(__dirname, '..', 'fixtures');
const goldenFiles = (v: string) =>
  fs
    .readdirSync(path.join(FIX, 'golden', v))
    .filter((f) => f.endsWith('.jsonl.gz'))
    .map((f) => path.join(FIX, 'golden', v, f));

async function check(file: string, kernel?: string) {
  const mismatches: string[] = [];
  const races: string[] = [];
  const run = await runReplay(file, {
    check: true,
    ...(kernel ? { kernel } : {}),
    onOp(o) {
      if (o.mismatch) mismatches.push(o.mismatch);
      if (o.race) races.push(o.race);
    },
  });
  return { run, mismatches, races };
}

describe('golden: the kernel allocator functions', () => {
  for (const v of ['6.1', 'mainline']) {
    const files = goldenFiles(v);
    test(`${v}: 13 workloads vendored`, () => assert.equal(files.length, 13));
    for (const f of files) {
      test(`${v}/${path.basename(f, '.jsonl.gz')}: 0 mismatches`, async () => {
        const { run, mismatches, races } = await check(f);
        assert.deepEqual(mismatches.slice(0, 5), []);
        assert.equal(races.length, 0);
        const st = run.replayer.stats;
        const books = run.replayer.recorder.books;
        assert.equal(st.compared, books.maps + books.allocs, 'every map and alloc compared');
        assert.equal(st.matched, st.compared);
        assert.equal(run.replayer.pool.totalUsed, 0, 'every golden file ends with an empty pool');
      });
    }
  }
});

describe('real 6.1.192 kernel runs', () => {
  const files = fs.readdirSync(path.join(FIX, 'kernel-6.1')).filter((f) => f.endsWith('.ops.jsonl.gz'));
  test('three runs vendored', () => assert.equal(files.length, 3));
  for (const f of files) {
    test(`${f}: every placement as the kernel chose it`, async () => {
      const { run, mismatches, races } = await check(path.join(FIX, 'kernel-6.1', f));
      assert.deepEqual(mismatches, []);
      const st = run.replayer.stats;
      if (f.startsWith('b_small_pool')) {
        // one search raced with another CPU: predicted elsewhere, followed as observed
        assert.equal(races.length, 1);
        assert.match(races[0] as string, /line 539: map id 270: race: index 40, expected 264/);
        assert.equal(st.followed, 1);
        assert.equal(st.matched, st.compared - 1);
        assert.equal(st.failures.get('full'), 12, '12 failed maps, as in the README');
      } else {
        assert.equal(races.length, 0);
        assert.equal(st.matched, st.compared);
      }
    });
  }
});

/** Outcome of the op at `line` (1-based, header = line 1). */
async function outcomeAt(file: string, line: number, kernel?: string): Promise<{ op: ReplayOp; out: OpOutcome }> {
  let found: { op: ReplayOp; out: OpOutcome } | undefined;
  await runReplay(file, {
    ...(kernel ? { kernel } : {}),
    onOp(out, op) {
      if (op.line === line) found = { op, out };
    },
  });
  assert.ok(found, `no op at line ${line}`);
  return found;
}

const g = (v: string, w: string) => path.join(FIX, 'golden', v, `${w}.jsonl.gz`);

describe('the traps of the golden README, line by line', () => {
  test('1. next-fit: mainline/basic line 3453 gives index 1400 with slot 0 free', async () => {
    const { out } = await outcomeAt(g('mainline', 'basic'), 3453);
    assert.match(out.json, /"index":1400,.*"used":2}/);
  });
  test('2. segments cap runs: mainline/pressure-256 line 128 gives 128, not 124', async () => {
    assert.match((await outcomeAt(g('mainline', 'pressure-256'), 128)).out.json, /"index":128,/);
  });
  test('3. mainline page alignment only when both masks are 0: areas-n16 line 11', async () => {
    assert.match((await outcomeAt(g('mainline', 'areas-n16'), 11)).out.json, /"index":33,.*"tlb_addr":"0x7801094b"/);
  });
  test('4. 6.1 rounds the start up to the stride: 6.1/align line 3 gives index 8', async () => {
    assert.match((await outcomeAt(g('6.1', 'align'), 3)).out.json, /"index":8,/);
  });
  test('4b. first 6.1/mainline split on NVMe: nvme line 7 gives 6156 / 6154', async () => {
    assert.match((await outcomeAt(g('6.1', 'nvme'), 7)).out.json, /"index":6156,/);
    assert.match((await outcomeAt(g('mainline', 'nvme'), 7)).out.json, /"index":6154,/);
  });
  test('5. area-relative index: areas-n4 line 5 gives 4129; areas-n2 line 2 gives 8192', async () => {
    assert.match((await outcomeAt(g('mainline', 'areas-n4'), 5)).out.json, /"index":4129,/);
    assert.match((await outcomeAt(g('mainline', 'areas-n2'), 2)).out.json, /"index":8192,/);
  });
  test('6. area fall-back: areas-n4 line 2445 lands in area 2', async () => {
    assert.match((await outcomeAt(g('mainline', 'areas-n4'), 2445)).out.json, /"index":10046,/);
  });
  test('7. mainline padding: align line 9 is index 48, offset 3980; its unmap frees 18 slots', async () => {
    assert.equal(
      (await outcomeAt(g('mainline', 'align'), 9)).out.json,
      '{"id":7,"ok":true,"index":48,"offset":3980,"tlb_addr":"0x9c018f8c","used":36}',
    );
    let unmapJson = '';
    await runReplay(g('mainline', 'align'), {
      onOp(out, op) {
        if (op.op === 'unmap' && op.id === 7) unmapJson = out.json;
      },
    });
    assert.equal(unmapJson, '{"id":7,"freed_slots":18,"used":64}');
  });
  test('8. boundary windows from the masked base: mainline/boundary line 2 gives 2054', async () => {
    assert.match((await outcomeAt(g('mainline', 'boundary'), 2)).out.json, /"index":2054,/);
  });
  test('9. coherent alloc alignment: align line 7 gives 32 (mainline) and 20 (6.1)', async () => {
    assert.match((await outcomeAt(g('mainline', 'align'), 7)).out.json, /"index":32,.*"tlb_addr":"0x9c010000"/);
    assert.match((await outcomeAt(g('6.1', 'align'), 7)).out.json, /"index":20,/);
  });
  test('10. 6.1 livelock: nvme line 767; sizes lines 1568 and 1554', async () => {
    assert.match((await outcomeAt(g('6.1', 'nvme'), 767)).out.json, /"reason":"livelock"/);
    assert.match((await outcomeAt(g('6.1', 'sizes'), 1568)).out.json, /"reason":"livelock"/);
    assert.match((await outcomeAt(g('mainline', 'sizes'), 1568)).out.json, /"reason":"too-big"/);
    assert.match((await outcomeAt(g('6.1', 'sizes'), 1554)).out.json, /"reason":"livelock"/);
    assert.match((await outcomeAt(g('mainline', 'sizes'), 1554)).out.json, /"reason":"full"/);
  });
  test('11. reset to 0, not modulo: 6.1/pressure-1024 line 353 succeeds at 845', async () => {
    assert.match((await outcomeAt(g('6.1', 'pressure-1024'), 353)).out.json, /"index":845,/);
  });
  test('12. align + min_align: three answers (mainline 48, 6.1.84+ 36, 6.1.0 37)', async () => {
    assert.match((await outcomeAt(g('6.1', 'align'), 9)).out.json, /"index":36,"offset":1932,/);
    assert.match((await outcomeAt(g('6.1', 'align'), 9, '6.1.0')).out.json, /"index":37,/);
  });
});

describe('the check is discriminating', () => {
  test('6.1 answers replayed with the mainline allocator mismatch', async () => {
    const { mismatches } = await check(g('6.1', 'nvme'), 'mainline');
    assert.ok(mismatches.length > 100, `only ${mismatches.length} mismatches`);
  });
  test('mainline answers replayed with the 6.1 allocator mismatch', async () => {
    const { mismatches } = await check(g('mainline', 'areas-n4'), '6.1');
    assert.ok(mismatches.length > 100);
  });
  test('6.6-early differs from 6.1 on NVMe maps and from mainline on unaligned 4 KiB maps', async () => {
    const a = await check(g('6.1', 'nvme'), '6.6-early');
    const b = await check(g('mainline', 'basic'), '6.6-early');
    assert.ok(a.mismatches.length > 0 && b.mismatches.length > 0);
    // with min_align_mask set and no alloc_align_mask, search C and search D agree
    assert.equal((await check(g('mainline', 'nvme'), '6.6-early')).mismatches.length, 0);
  });
});
