/**
 * The replay's output lines say what the kernel answered, line by line: every golden file's
 * answers (index, offset, tlb_addr, used, freed_slots) read back from the JSON text the replayer
 * writes, whose placement part is made once per slot and reused; and ids of every kind (small,
 * huge, strings, reused after an unmap) come back as the file writes them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { runReplay } from '../../src/replay/run';

const FIX = path.join(__dirname, '..', 'fixtures', 'golden');

describe('replay output text = the golden answers', () => {
  for (const w of ['6.1/nvme', '6.1/areas-n1', 'mainline/align', 'mainline/areas-n16', 'mainline/nvme', '6.1/boundary']) {
    test(w, async () => {
      let compared = 0;
      await runReplay(path.join(FIX, `${w}.jsonl.gz`), {
        onOp(o, op) {
          const j = JSON.parse(o.json) as Record<string, unknown>;
          assert.equal(j.id, op.id, `line ${op.line}: id`);
          if (op.used !== undefined) assert.equal(j.used, op.used, `line ${op.line}: used`);
          const e = op.expect;
          if (!e) return;
          compared++;
          if (op.op === 'unmap') {
            assert.equal(j.freed_slots, e.freed_slots, `line ${op.line}: freed_slots`);
            return;
          }
          assert.equal(j.ok, e.ok, `line ${op.line}: ok`);
          if (e.ok) {
            assert.equal(j.index, e.index, `line ${op.line}: index`);
            assert.equal(j.offset, e.offset, `line ${op.line}: offset`);
            assert.equal(BigInt(j.tlb_addr as string), BigInt(e.tlb_addr as string), `line ${op.line}: tlb_addr`);
          } else if (e.reason !== undefined) {
            assert.equal(j.reason, e.reason, `line ${op.line}: reason`);
          }
        },
      });
      assert.ok(compared > 1000, `${compared} answers compared`);
    });
  }
});

test('ids of every kind: small, beyond the dense range, strings, reused after an unmap', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'replay-ids-'));
  const file = path.join(dir, 'ids.jsonl');
  const ids: (number | string)[] = [1, 2 ** 40, 'nvme0:q1', 3, 70000, 'x'];
  const lines = [JSON.stringify({ op: 'init', nslabs: 1024, nareas: 1, pool_base: '0x80000000', kernel: '6.1' })];
  // map them all (k + 1 slots each; 6.1 steps by 2 slots for a page or more), unmap in another order, map the same ids again
  for (const [k, id] of ids.entries())
    lines.push(JSON.stringify({ op: 'map', id, cpu: 0, orig: `0x${(0x1000 * (k + 1)).toString(16)}`, size: 2048 * (k + 1) }));
  for (const id of [...ids].reverse()) lines.push(JSON.stringify({ op: 'unmap', id }));
  for (const id of ids) lines.push(JSON.stringify({ op: 'map', id, cpu: 0, orig: '0x5000', size: 4096 }));
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  const out: Record<string, unknown>[] = [];
  const run = await runReplay(file, { onOp: (o) => out.push(JSON.parse(o.json) as Record<string, unknown>) });
  assert.deepEqual(
    out.map((j) => j.id),
    [...ids, ...[...ids].reverse(), ...ids],
  );
  // each unmap frees what its own map took (k + 1 slots), whichever row its mapping had
  assert.deepEqual(
    out.slice(ids.length, 2 * ids.length).map((j) => j.freed_slots),
    ids.map((_, k) => k + 1).reverse(),
  );
  assert.deepEqual(
    out.slice(0, ids.length).map((j) => j.index),
    [0, 2, 4, 8, 12, 18],
  );
  assert.equal(run.replayer.liveMappings, ids.length);
  assert.equal(run.replayer.pool.totalUsed, 2 * ids.length);
  fs.rmSync(dir, { recursive: true, force: true });
});
