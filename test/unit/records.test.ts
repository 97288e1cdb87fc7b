/**
 * The parallel path's records: every sink operation, with arguments of every kind, comes out of
 * the decoder as it went into the encoder (device ids renumbered into the main thread's names).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SgArrays, SINK_OPS, type SinkOp, TBL_MAP_FIELDS, type TraceSink } from '../../src/trace/events';
import { EventLine } from '../../src/trace/ftrace';
import { RecordDecoder, RecordEncoder } from '../../src/trace/records';

const num = fc.oneof(fc.integer({ min: -1, max: 2 ** 40 }), fc.double({ min: 0, max: 1e6, noNaN: true }));

/** A value of a field kind; devices are indexes into `names`. */
function value(kind: string, names: string[]): fc.Arbitrary<unknown> {
  switch (kind) {
    case 'num':
      return num;
    case 'dev':
      return fc.integer({ min: 0, max: names.length - 1 });
    case 'bool':
      return fc.boolean();
    case 'str':
      return fc.string({ maxLength: 20 });
    case 'sg':
      return fc.record({
        dma: fc.array(num, { maxLength: 5 }),
        size: fc.array(num, { maxLength: 5 }),
        phys: fc.array(num, { maxLength: 5 }),
      });
    default:
      return fc.record(
        Object.fromEntries(TBL_MAP_FIELDS.map((f) => [f, f === 'dev' ? fc.integer({ min: 0, max: names.length - 1 }) : num])),
      );
  }
}

function sgOf(v: { dma: number[]; size: number[]; phys: number[] }): SgArrays {
  const sg = new SgArrays();
  sg.n = Math.min(v.dma.length, v.size.length);
  v.dma.forEach((x, i) => {
    sg.dma[i] = x;
    sg.failed[i] = i % 2;
  });
  v.size.forEach((x, i) => {
    sg.size[i] = x;
  });
  v.phys.forEach((x, i) => {
    sg.phys[i] = x;
  });
  sg.nDma = v.dma.length;
  sg.nSize = v.size.length;
  sg.nPhys = v.phys.length;
  return sg;
}

/** What a sink call means, with device ids as names and scatterlists as their printed entries. */
function meaning(op: SinkOp, args: unknown[], names: readonly string[]): unknown[] {
  return [
    op,
    ...args.map((a, k) => {
      const kind = SINK_OPS[op][k];
      if (kind === 'dev') return names[a as number];
      if (kind === 'sg') {
        const sg = a as SgArrays;
        return {
          n: sg.n,
          dma: [...sg.dma.subarray(0, sg.nDma)],
          failed: [...sg.failed.subarray(0, sg.nDma)],
          size: [...sg.size.subarray(0, sg.nSize)],
          phys: [...sg.phys.subarray(0, sg.nPhys)],
        };
      }
      if (kind === 'tbl') {
        const t = { ...(a as Record<string, number>) };
        t.dev = names[t.dev as number] as unknown as number;
        return t;
      }
      return a;
    }),
  ];
}

test('every sink operation survives the trip through the records', () => {
  const ops = Object.keys(SINK_OPS) as SinkOp[];
  const call = fc
    .constantFrom(...ops)
    .chain((op) =>
      fc.tuple(fc.constant(op), fc.tuple(...SINK_OPS[op].map((k) => value(k, ['', 'dev-a', 'dev-b']))), fc.integer({ min: 1, max: 99 })),
    );
  fc.assert(
    fc.property(fc.array(call, { minLength: 1, maxLength: 30 }), (calls) => {
      const enc = new RecordEncoder();
      enc.devices.internString('dev-a');
      enc.devices.internString('dev-b');
      const workerNames = enc.devices.names.slice();
      const ev = new EventLine();
      const want: unknown[] = [];
      for (const [op, raw, line] of calls) {
        const args = raw.map((a, k) => (SINK_OPS[op][k] === 'sg' ? sgOf(a as never) : a));
        ev.pid = line * 3;
        ev.cpu = line % 4;
        ev.time = line / 7;
        ev.counter = line % 2 === 0;
        (enc.sink[op] as (...a: unknown[]) => void)(ev, line, ...args);
        want.push([ev.pid, ev.cpu, ev.time, ev.counter, line, ...meaning(op, args, workerNames)]);
      }
      const block = enc.take(0, 100, new ArrayBuffer(0));
      // the main thread knows other devices already: ids differ, names do not
      const mainNames = ['', 'other', 'dev-b'];
      const dec = new RecordDecoder((name) => {
        let id = mainNames.indexOf(name);
        if (id < 0) id = mainNames.push(name) - 1;
        return id;
      });
      const got: unknown[] = [];
      const sink = Object.fromEntries(
        ops.map((op) => [
          op,
          (e: EventLine, line: number, ...args: unknown[]) =>
            got.push([e.pid, e.cpu, e.time, e.counter, line - 1000, ...meaning(op, args, mainNames)]),
        ]),
      ) as unknown as TraceSink;
      dec.replay(0, block, 1000, { sink, text: () => assert.fail('no text lines were written') });
      assert.deepEqual(got, want);
    }),
    { numRuns: 200 },
  );
});
