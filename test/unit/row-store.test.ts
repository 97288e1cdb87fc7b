/**
 * The event table's row store: fixed chunks, narrow columns widened only where a value needs it,
 * full chunks spilled to a temporary file past the byte budget and read back by range, the
 * worker transfer, and the file removed on dispose and at exit. Every answer of a spilled table
 * equals the in-memory one's.
 */
import './row-store-env';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { EventKind, Outcome } from '../../src/analysis/codes';
import { COLUMN_NAMES, type ColumnName, columnArrays, type EventInit } from '../../src/analysis/columns';
import { CHUNK_ROWS, EventTable, type EventTableTransfer } from '../../src/analysis/eventTable';
import { PanelModel } from '../../src/analysis/panelModel';
import { queryRows } from '../../src/analysis/query';
import { type AnalysisSession, eventAt } from '../../src/analysis/session';
import { DmaDirection } from '../../src/model/constants';
import { replaySession } from '../../src/replay/run';

const FIX = path.join(__dirname, '..', 'fixtures');
const ROOT = path.join(__dirname, '..', '..');

/** Row i's event: small values, except a few that need each column's declared array. */
function eventOf(i: number): EventInit {
  return {
    kind: i % 7 === 0 ? EventKind.Unmap : EventKind.Map,
    outcome: i % 5 === 0 ? Outcome.Bounced : Outcome.Direct,
    time: i * 1e-3,
    cpu: i % 4,
    device: `dev${i % 3}`,
    api: 'dma_map_page',
    size: i === CHUNK_ROWS + 3 ? 2 ** 40 + 1 : i === 2 * CHUNK_ROWS - 1 ? 1.5 : 512 + i,
    dir: DmaDirection.TO_DEVICE,
    attrs: i === 5 ? 0x1_0000 : 0,
    reasons: i % 5 === 0 ? 1 : 0,
    slot: i % 5 === 0 ? (i * 3) % 40000 : -1,
    nslots: i % 5 === 0 ? 1 + (i % 300) : 0,
    area: i % 2,
    used: i % 40000,
    phys: 0x1_0000_0000 + i * 4096,
    dma: 0xffff_ffff_0000_0000 - i * 4096,
    copied: i === 3 * CHUNK_ROWS + 1 ? 2 ** 33 : i % 5 === 0 ? 512 + i : 0,
    pair: i % 7 === 0 ? i - 1 : -1,
    file: i % 11 === 0 ? 'b.trace' : 'a.trace',
    line: i + 1,
    ...(i % 50 === 0 ? { message: `message ${i}` } : {}),
  };
}

/** What the declared array of a column keeps of v (the value a row must read back). */
function declared(name: ColumnName, v: number): number {
  const a = new (columnArrays(name).array)(1);
  a[0] = v;
  return a[0] as number;
}

function fill(t: EventTable, n: number, of = eventOf): EventTable {
  for (let i = 0; i < n; i++) t.push(of(i));
  return t;
}

const N = 4 * CHUNK_ROWS + 9;

describe('row store', () => {
  test('chunk boundaries: every row reads back as its declared column keeps it, whatever chunk and array', () => {
    const t = fill(new EventTable(undefined, { budget: Number.POSITIVE_INFINITY }), N);
    assert.equal(t.length, N);
    assert.equal(t.bytes.spilled, 0);
    for (const i of [0, 5, CHUNK_ROWS - 1, CHUNK_ROWS, CHUNK_ROWS + 3, 2 * CHUNK_ROWS - 1, 2 * CHUNK_ROWS, 3 * CHUNK_ROWS + 1, N - 1]) {
      const e = eventOf(i) as unknown as Record<string, unknown>;
      const r = t.raw(i);
      assert.equal(r.size, declared('size', e.size as number), `size of row ${i}`);
      assert.equal(r.copied, declared('copied', e.copied as number), `copied of row ${i}`);
      assert.equal(r.attrs, e.attrs, `attrs of row ${i}`);
      assert.equal(r.dma, e.dma);
      assert.equal(r.nslots, e.nslots);
      assert.equal(r.message, e.message ?? null);
      assert.equal(t.get('line', i), i + 1);
    }
    // views over a range stop at the range and at each chunk's end
    const views = [...t.chunks(['line'], CHUNK_ROWS - 2, 2 * CHUNK_ROWS + 2)];
    assert.deepEqual(
      views.map((v) => [v.base, v.start, v.end]),
      [
        [0, CHUNK_ROWS - 2, CHUNK_ROWS],
        [CHUNK_ROWS, CHUNK_ROWS, 2 * CHUNK_ROWS],
        [2 * CHUNK_ROWS, 2 * CHUNK_ROWS, 2 * CHUNK_ROWS + 2],
      ],
    );
    const lines = t.gather('line');
    assert.equal(lines.length, N);
    assert.ok(lines.every((v, i) => v === i + 1));
    assert.throws(() => t.get('time', N), RangeError);
    assert.throws(() => t.raw(-1), RangeError);
  });

  test('columns start narrow: small values take fewer bytes, one large value widens only its chunk', () => {
    const small = fill(new EventTable(undefined, { budget: Number.POSITIVE_INFINITY }), CHUNK_ROWS, (i) => ({
      ...eventOf(i + 1),
      size: 512,
      copied: 0,
      attrs: 0,
      slot: 7,
      used: 9,
    }));
    const declaredBytes = COLUMN_NAMES.reduce((n, c) => n + new (columnArrays(c).array)(1).BYTES_PER_ELEMENT, 0);
    const perRow = small.bytes.memory / CHUNK_ROWS;
    assert.ok(perRow < declaredBytes - 20, `${perRow} bytes a row, declared ${declaredBytes}`);
    // the same rows with one size past 2^31 in the second chunk: the first chunk stays narrow
    const wide = fill(new EventTable(undefined, { budget: Number.POSITIVE_INFINITY }), 2 * CHUNK_ROWS, (i) => ({
      ...eventOf(i + 1),
      size: i === CHUNK_ROWS + 1 ? 2 ** 40 : 512,
      copied: 0,
      attrs: 0,
      slot: 7,
      used: 9,
    }));
    assert.equal(wide.get('size', CHUNK_ROWS + 1), 2 ** 40);
    assert.equal(wide.get('size', CHUNK_ROWS + 2), 512);
    assert.equal(wide.bytes.memory, small.bytes.memory * 2 + CHUNK_ROWS * 4);
  });

  test('spilled past the budget: read back by range, equal to the in-memory table, writes included', () => {
    const mem = fill(new EventTable(undefined, { budget: Number.POSITIVE_INFINITY }), N);
    const budget = 2 * (mem.bytes.memory / 5);
    const t = fill(new EventTable(undefined, { budget }), N);
    const { memory, spilled, file } = t.bytes;
    assert.ok(spilled > 0 && file && fs.existsSync(file), 'rows went to the file');
    assert.ok(fs.statSync(file).size === spilled);
    assert.ok(memory <= budget + mem.bytes.memory / 5 + 1, `${memory} bytes in memory, budget ${budget}`);
    for (let i = 0; i < N; i++) assert.deepEqual(t.raw(i), mem.raw(i), `row ${i}`);
    for (const [from, to] of [
      [3, 4],
      [CHUNK_ROWS - 1, CHUNK_ROWS + 1],
      [0, N],
      [2 * CHUNK_ROWS + 7, 4 * CHUNK_ROWS + 2],
    ] as const) {
      const got = [...t.chunks(['size', 'dma', 'copied'], from, to)].flatMap((v) =>
        Array.from({ length: v.end - v.start }, (_, k) => [
          v.c.size[v.start - v.base + k],
          v.c.dma[v.start - v.base + k],
          v.c.copied[v.start - v.base + k],
        ]),
      );
      const want = Array.from({ length: to - from }, (_, k) => [
        mem.get('size', from + k),
        mem.get('dma', from + k),
        mem.get('copied', from + k),
      ]);
      assert.deepEqual(got, want, `rows ${from}..${to}`);
    }
    for (const c of COLUMN_NAMES) assert.deepEqual(t.gather(c), mem.gather(c), c);
    // a pair found later lands in the file; a value the spilled column's array cannot keep widens it
    for (const x of [mem, t]) {
      x.set('pair', 2, N - 1);
      x.set('file', 3, 300);
      x.set('size', 4, 2 ** 45);
    }
    for (const i of [2, 3, 4]) assert.deepEqual(t.raw(i), mem.raw(i));
    assert.equal(t.get('file', 3), 300);
    assert.equal(t.get('size', 4), 2 ** 45);
    // read from the file afresh (a new table has no cache)
    const again = EventTable.fromTransfer(t.toTransfer());
    for (const i of [2, 3, 4]) assert.deepEqual(again.raw(i), mem.raw(i));
    again.dispose();
  });

  test('transfer: in-memory chunks move without a copy, spilled ones stay in the file the receiver owns', () => {
    const mem = fill(new EventTable(undefined, { budget: Number.POSITIVE_INFINITY }), N);
    const t = fill(new EventTable(undefined, { budget: mem.bytes.memory / 3 }), N);
    const file = t.bytes.file as string;
    const x = t.toTransfer();
    const list = EventTable.transferList(x);
    assert.ok(list.length > 0 && list.length < (N / CHUNK_ROWS + 1) * COLUMN_NAMES.length, 'only the chunks in memory travel');
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(x, list);
    const got = receiveMessageOnPort(port2)?.message as EventTableTransfer;
    port1.close();
    assert.ok(
      list.every((b) => b.byteLength === 0),
      'the buffers were moved, not copied',
    );
    const back = EventTable.fromTransfer(got);
    assert.equal(back.length, N);
    assert.deepEqual(back.names, mem.names);
    for (let i = 0; i < N; i += 97) assert.deepEqual(back.raw(i), mem.raw(i), `row ${i}`);
    assert.deepEqual(back.raw(N - 1), mem.raw(N - 1));
    // the sender let go of the file: only the receiver removes it
    t.dispose();
    assert.ok(fs.existsSync(file));
    assert.equal(back.bytes.file, file);
    back.dispose();
    assert.ok(!fs.existsSync(file));
    assert.equal(back.length, 0);
    assert.throws(() => EventTable.fromTransfer({ ...got, length: got.length + CHUNK_ROWS }), /chunks/);
  });

  test('the spill file is removed on dispose and when the process exits', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'row-store-'));
    const t = fill(new EventTable(undefined, { budget: 0, dir }), 3 * CHUNK_ROWS);
    const file = t.bytes.file as string;
    assert.equal(path.dirname(file), dir);
    assert.ok(fs.existsSync(file));
    t.dispose();
    assert.ok(!fs.existsSync(file));
    assert.deepEqual(fs.readdirSync(dir), []);
    // a process that never disposes its table
    const script = `const { EventTable } = require('./src/analysis/eventTable'); const t = new EventTable(undefined, { budget: 0, dir: ${JSON.stringify(dir)} }); for (let i = 0; i < 200; i++) t.push({ kind: 1, size: i }); console.log(t.bytes.file);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env } });
    assert.equal(r.status, 0, r.stderr);
    const left = r.stdout.trim();
    assert.ok(left.startsWith(dir), `the child spilled to ${left}`);
    assert.ok(!fs.existsSync(left), 'removed at exit');
    // a process killed before its exit handler: the next process to spill there removes its file
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim();
    const stale = path.join(dir, `swiotlb-lens-rows-${dead}-1-abc.bin`);
    const mine = path.join(dir, `swiotlb-lens-rows-${process.pid}-99-abc.bin`);
    fs.writeFileSync(stale, 'x');
    fs.writeFileSync(mine, 'x');
    const r2 = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env } });
    assert.equal(r2.status, 0, r2.stderr);
    assert.ok(!fs.existsSync(stale), "a dead process's file is swept");
    assert.ok(fs.existsSync(mine), "a live process's file is kept");
    fs.rmSync(dir, { recursive: true });
  });

  test('a session spilled chunk by chunk answers the panel exactly as in memory', async () => {
    const { session } = await replaySession(path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2.ops.jsonl.gz'));
    const a = session.events;
    const b = new EventTable(undefined, { budget: 0 });
    for (const v of a.devices.values.slice(1)) b.devices.intern(v);
    for (const v of a.apis.values.slice(1)) b.apis.intern(v);
    for (const v of a.files.values.slice(1)) b.files.intern(v);
    for (let i = 0; i < a.length; i++) b.push(eventAt(a, i));
    b.hasClock = a.hasClock;
    assert.ok(b.bytes.spilled > 0 && b.bytes.memory < b.bytes.spilled / 10);
    const ma = new PanelModel(session);
    const mb = new PanelModel({ ...session, events: b } as AnalysisSession);
    const sid = (m: PanelModel) => m.info.id;
    assert.deepEqual({ ...mb.info, id: 0 }, { ...ma.info, id: 0 });
    for (const [filter, sort] of [
      [{}, { column: 'size', desc: true }],
      [{ outcomes: [Outcome.Failed] }, { column: 'device', desc: false }],
      [{ text: 'nvme' }, { column: 'time', desc: true }],
      [
        { t0: ma.info.t0, t1: (ma.info.t0 + ma.info.t1) / 2 },
        { column: 'index', desc: false },
      ],
    ] as const) {
      assert.deepEqual(queryRows(b, filter, sort), queryRows(a, filter, sort));
      const qa = ma.answer({ type: 'query', session: sid(ma), filter, sort, query: 1 });
      const qb = mb.answer({ type: 'query', session: sid(mb), filter, sort, query: 1 });
      assert.deepEqual({ ...qb, session: 0 }, { ...qa, session: 0 });
      const pa = ma.answer({ type: 'rows', session: sid(ma), request: 1, query: 1, start: 5, count: 150 });
      const pb = mb.answer({ type: 'rows', session: sid(mb), request: 1, query: 1, start: 5, count: 150 });
      assert.deepEqual({ ...pb, session: 0 }, { ...pa, session: 0 });
    }
    for (const q of [
      { type: 'timeline', t0: ma.info.t0, t1: ma.info.t1, columns: 300 },
      { type: 'slotmap', row: 4000 },
      { type: 'slotmap', row: a.length - 1 },
      { type: 'rangeStats', t0: ma.info.t0, t1: ma.info.t1 },
    ] as const) {
      const ra = ma.answer({ ...q, session: sid(ma), request: 2 } as never);
      const rb = mb.answer({ ...q, session: sid(mb), request: 2 } as never);
      assert.deepEqual({ ...rb, session: 0 }, { ...ra, session: 0 }, q.type);
    }
    b.dispose();
  });
});
