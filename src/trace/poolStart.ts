/**
 * The pool start when no line names it (guests below 4 GiB print no "mapped [mem ...]"; a
 * trace of dma:* events has no pool= probe): from the bounce addresses the trace's beginning
 * shows. The kernel starts CPU c's search in area c & (nareas - 1), at the area's search index,
 * which is the area's first slot until something maps there; so each area's first bounce, page
 * aligned down (the pool is page aligned: memblock), is that area's start. Two areas' first
 * bounces are one area size apart, which also tells the pool size when nothing else does.
 */
import { IO_TLB_SIZE } from '../model/constants';
import { DeviceNames, type SgArrays, SINK_OPS, type SinkOp, type TraceSink } from './events';
import type { EventLine } from './ftrace';

const PAGE = 4096;

/** What a trace's beginning shows of its bounce buffers. */
export interface BounceHints {
  /** The first bounce address of each CPU, in trace order, with its line. */
  readonly first: Map<number, { addr: number; line: number }>;
  /** Lowest bounce address and highest end (address + size) seen. */
  min: number;
  maxEnd: number;
  /** Maps of the head that bounced, and that did not. */
  bounced: number;
  direct: number;
  /** Per device name: its bounced runs as segment-boundary evidence. */
  readonly runs: Map<string, RunEvidence>;
}

/** What a device's bounced runs say of its segment boundary. */
export interface RunEvidence {
  /** 64 KiB crossings its runs would have made by chance (each run weighted by its chance to straddle 64 KiB). */
  expected: number;
  /** log2 of the largest power of two a run straddled (-1: none). */
  crossedBits: number;
}

/** Adds a bounce run [tlb, tlb + size) to a device's boundary evidence. */
export function noteRun(r: RunEvidence, tlb: number, size: number): void {
  const start = tlb - (tlb % IO_TLB_SIZE);
  const end = tlb + Math.max(size, 1) - 1;
  // page-sized bounces start on even slots (stride 2): they straddle 64 KiB with chance (pages - 1) / 16
  const w = size >= PAGE ? Math.min(1, (Math.ceil(size / PAGE) - 1) / 16) : (Math.ceil((end + 1 - start) / IO_TLB_SIZE) - 1) / 32;
  r.expected += w;
  const diff = start ^ end;
  if (diff > 0) {
    const bits = Math.floor(Math.log2(diff));
    if (bits > r.crossedBits) r.crossedBits = bits;
  }
}

/** No run straddled 64 KiB where chance alone would have made several do: a 0xffff boundary (ATA). */
export function boundaryBitsFromRuns(r: RunEvidence | undefined, evidence = 4): number | undefined {
  return r && r.crossedBits < 16 && r.expected >= evidence ? 16 : undefined;
}

export interface PoolInference {
  readonly base: number;
  /** The pool size, when the area size the first bounces show differs from an assumed default. */
  readonly nslabs?: number;
  /** sure: two areas' first bounces agree with the area size; likely: one area's first bounce; guess: the lowest bounce seen. */
  readonly certainty: 'sure' | 'likely' | 'guess';
  readonly why: string;
}

/** A sink for EventParser that keeps the first bounce addresses per CPU (everything else ignored). */
export class BounceScan {
  readonly hints: BounceHints = { first: new Map(), min: Number.POSITIVE_INFINITY, maxEnd: 0, bounced: 0, direct: 0, runs: new Map() };
  readonly devices = new DeviceNames();
  /** swiotlb_bounced records waiting for their map, per task: sizes and buffer addresses. */
  private readonly pending = new Map<number, { size: number; addr: number }[]>();
  private sawBounced = false;
  readonly sink: TraceSink;

  constructor() {
    const sink = {} as Record<SinkOp, (...args: unknown[]) => void>;
    for (const op of Object.keys(SINK_OPS) as SinkOp[]) sink[op] = () => {};
    sink.bounced = (ev, _line, _dev, _mask, addr, size) => this.bounce(ev as EventLine, size as number, addr as number);
    sink.dmaMap = (ev, line, _api, dev, _dir, dma, size, phys, _attrs, failed) => {
      if (!failed) this.map(ev as EventLine, line as number, dev as number, dma as number, size as number, phys as number);
    };
    sink.dmaMapSg = (ev, line, dev, _dir, sg) => {
      const a = sg as SgArrays;
      const paired = a.nPhys === a.nDma;
      for (let i = 0; i < Math.min(a.n, 128); i++) {
        if (a.failed[i] !== 1)
          this.map(
            ev as EventLine,
            line as number,
            dev as number,
            a.dma[i] as number,
            a.size[i] as number,
            paired ? (a.phys[i] as number) : -1,
          );
      }
    };
    this.sink = sink as unknown as TraceSink;
  }

  private key(ev: EventLine): number {
    return ev.pid > 0 ? ev.pid : -1 - ev.cpu;
  }

  private bounce(ev: EventLine, size: number, addr: number): void {
    this.sawBounced = true;
    const k = this.key(ev);
    let q = this.pending.get(k);
    if (!q) {
      q = [];
      this.pending.set(k, q);
    }
    if (q.length < 256) q.push({ size, addr });
  }

  private map(ev: EventLine, line: number, dev: number, dma: number, size: number, phys: number): void {
    let bounced: boolean;
    if (phys >= 0 && dma === phys) bounced = false;
    else if (this.sawBounced) {
      // the record of this buffer, else of this size (dev_addr is the buffer's DMA address)
      const q = this.pending.get(this.key(ev));
      let i = q && phys >= 0 ? q.findIndex((r) => r.addr === phys && r.size === size) : -1;
      if (q && i < 0) i = q.findIndex((r) => r.size === size);
      bounced = i >= 0;
      if (q && i >= 0) q.splice(0, i + 1);
    } else bounced = phys >= 0 && dma !== phys;
    const h = this.hints;
    if (!bounced) {
      h.direct++;
      return;
    }
    h.bounced++;
    const name = this.devices.names[dev] ?? '';
    let r = h.runs.get(name);
    if (!r) {
      r = { expected: 0, crossedBits: -1 };
      h.runs.set(name, r);
    }
    noteRun(r, dma, size);
    if (!h.first.has(ev.cpu)) h.first.set(ev.cpu, { addr: dma, line });
    if (dma < h.min) h.min = dma;
    if (dma + size > h.maxEnd) h.maxEnd = dma + size;
  }
}

/**
 * The pool start from the first bounces, for a pool of `nslabs` slots in `nareas` areas
 * (`nslabsKnown`: an input said the size; otherwise the first bounces may correct it).
 */
export function inferPoolStart(h: BounceHints, nslabs: number, nareas: number, nslabsKnown: boolean, where: string): PoolInference | null {
  if (h.bounced === 0) return null;
  const areaBytes = Math.floor(nslabs / nareas) * IO_TLB_SIZE;
  const floor = (a: number) => a - (a % PAGE);
  // each area's first bounce: the earliest first bounce among the CPUs that start there
  const firstOfArea = new Map<number, { addr: number; line: number }>();
  for (const [cpu, f] of h.first) {
    const a = cpu & (nareas - 1);
    const cur = firstOfArea.get(a);
    if (!cur || f.line < cur.line) firstOfArea.set(a, f);
  }
  const f0 = firstOfArea.get(0);
  const fits = (base: number, n: number) => h.min >= base && h.maxEnd <= base + n * IO_TLB_SIZE;
  const others = [...firstOfArea.entries()].filter(([a]) => a > 0).sort((x, y) => x[0] - y[0]);
  if (f0 && others.length > 0) {
    const base = floor(f0.addr);
    const [a, fa] = others[0] as [number, { addr: number; line: number }];
    const implied = (floor(fa.addr) - base) / a;
    const say = `the first bounces of area 0 (${where}:${f0.line}) and area ${a} (${where}:${fa.line})`;
    if (implied === areaBytes && fits(base, nslabs)) {
      return { base, certainty: 'sure', why: `${say} lie one area (${nslabs / nareas} slots) apart` };
    }
    if (!nslabsKnown && implied > 0 && implied % IO_TLB_SIZE === 0) {
      const n = (implied / IO_TLB_SIZE) * nareas;
      if (fits(base, n)) {
        return {
          base,
          nslabs: n,
          certainty: 'likely',
          why: `${say} lie ${implied / IO_TLB_SIZE} slots apart: areas of that size, ${n} slots in all`,
        };
      }
    }
  }
  if (f0 && fits(floor(f0.addr), nslabs)) {
    return {
      base: floor(f0.addr),
      certainty: 'likely',
      why: `the first bounce of area 0 (${where}:${f0.line}), taken as the area's first slot`,
    };
  }
  for (const [a, fa] of others) {
    const base = floor(fa.addr) - a * areaBytes;
    if (base > 0 && fits(base, nslabs)) {
      return { base, certainty: 'likely', why: `the first bounce of area ${a} (${where}:${fa.line}), taken as the area's first slot` };
    }
  }
  // the lowest bounce, if a pool starting there holds every bounce seen; else nothing fits
  const base = floor(h.min);
  if (!fits(base, nslabs)) return null;
  return { base, certainty: 'guess', why: `the lowest bounce address of the trace's beginning (the pool starts there or below)` };
}
