/**
 * Deterministic synthetic dma:* traces (6.12+ event formats) generated from the model: the
 * "kernel" here is the allocator of one profile, so the trace's truth (counts, occupancy, every
 * placement) is known exactly. Used by the round-trip tests and by `npm run bench:ingest`.
 */
import { type DmaDirection, IO_TLB_SIZE } from '../src/model/constants';
import { IoTlbPool } from '../src/model/pool';
import { resolveProfile } from '../src/model/profiles';
import { IoTlbMem } from '../src/model/swiotlb';
import { rng } from '../src/scenario/rng';

export interface SynthDevice {
  readonly name: string;
  readonly driver: string;
  readonly minAlign: number;
  /** The device's dma_mask (all-ones 64-bit printed when >= 2^53). */
  readonly dmaMask: number;
  /** Every map bounces (swiotlb=force, a confidential guest). */
  readonly forced: boolean;
  readonly maxSize: number;
  /** Share of this device's maps that are scatterlists. */
  readonly sgShare: number;
}

export interface SynthOptions {
  readonly seed: number;
  readonly profile: string;
  readonly base: number;
  readonly nslabs: number;
  readonly nareas: number;
  readonly cpus: number;
  readonly devices: readonly SynthDevice[];
  /** Stop after this many lines (or bytes, whichever comes first). */
  readonly lines: number;
  readonly bytes?: number;
  /** Mappings kept in flight on average. */
  readonly live: number;
  readonly format?: 'ftrace' | 'trace-cmd';
  readonly clock?: 'seconds' | 'counter';
  /** The 6.12.74+ dma_map_sg format (nents=/ents=); else the 6.12.0 one. */
  readonly sgCounts?: boolean;
}

export interface SynthTruth {
  lines: number;
  maps: number;
  bounced: number;
  direct: number;
  failed: number;
  unmaps: number;
  unmapsDirect: number;
  bounceAttempts: number;
  forced: number;
  syncs: number;
  peakSlots: number;
  finalSlots: number;
  sgFailed: number;
  bytes: number;
}

const TASKS = ['kworker/u8:2', 'fio', 'irq/45-nvme0q1', 'Web Content', 'jbd2/nvme0n1p2-8', 'ksoftirqd/1', 'dd', 'systemd-journal'];
const FLAGS = ['d..1.', '.....', 'd.h1.', '..s1.', 'dNs2.', 'd..2.'];
const DIRS = ['BIDIRECTIONAL', 'TO_DEVICE', 'FROM_DEVICE'];

function hex(n: number): string {
  return n.toString(16);
}

interface Live {
  tlb: number;
  phys: number;
  size: number;
  dir: number;
  dev: number;
  bounced: boolean;
  /** Entry of a scatterlist: unmapped with its list. */
  sg: number;
}

/**
 * Emits the trace line by line through `write`; returns the truth. Every placement is the
 * model's (profile `o.profile`) for the same requests in the same order.
 */
export function synthDmaTrace(o: SynthOptions, write: (line: string) => void): SynthTruth {
  const rand = rng(o.seed);
  const profile = resolveProfile(o.profile);
  const mem = new IoTlbMem(new IoTlbPool(profile, { start: o.base, nslabs: o.nslabs, nareas: o.nareas, pageShift: 12 }));
  const truth: SynthTruth = {
    lines: 0,
    maps: 0,
    bounced: 0,
    direct: 0,
    failed: 0,
    unmaps: 0,
    unmapsDirect: 0,
    bounceAttempts: 0,
    forced: 0,
    syncs: 0,
    peakSlots: 0,
    finalSlots: 0,
    sgFailed: 0,
    bytes: 0,
  };
  const fmt = o.format ?? 'ftrace';
  const counter = o.clock === 'counter';
  let clock = 1_000_000;
  let seq = 0;
  const tasks = TASKS.map((comm, i) => ({ comm, pid: 100 + i * 37, cpu: i % o.cpus }));
  const emit = (task: { comm: string; pid: number; cpu: number }, event: string, text: string) => {
    clock += 1 + Math.floor(rand() * 40);
    seq++;
    const ts = counter ? String(seq).padStart(12) : `${Math.floor(clock / 1e6)}.${String(clock % 1e6).padStart(6, '0')}`.padStart(12);
    let line: string;
    if (fmt === 'ftrace') {
      const flags = FLAGS[Math.floor(rand() * FLAGS.length)] as string;
      line = `${task.comm.padStart(16)}-${String(task.pid).padEnd(7)} [${String(task.cpu).padStart(3, '0')}] ${flags} ${ts}: ${event}: ${text}`;
    } else {
      line = `${task.comm.padStart(16)}-${String(task.pid).padEnd(5)} [${String(task.cpu).padStart(3, '0')}] ${ts}: ${`${event}:`.padEnd(20)} ${text}`;
    }
    truth.lines++;
    truth.bytes += line.length + 1;
    write(line);
  };
  if (fmt === 'ftrace') {
    for (const h of [
      '# tracer: nop',
      '#',
      `# entries-in-buffer/entries-written: 0/0   #P:${o.cpus}`,
      '#',
      '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
      '#              | |         |   |||||     |         |',
    ]) {
      write(h);
      truth.lines++;
      truth.bytes += h.length + 1;
    }
  } else {
    write(`cpus=${o.cpus}`);
    truth.lines++;
    truth.bytes += 6 + String(o.cpus).length;
  }
  const live: Live[] = [];
  let sgId = 0;
  const maxLines = o.lines;
  const maxBytes = o.bytes ?? Number.POSITIVE_INFINITY;
  const noteUsed = () => {
    if (mem.used > truth.peakSlots) truth.peakSlots = mem.used;
  };
  const idle = (cpu: number) => ({ comm: '<idle>', pid: 0, cpu });
  const devParams = (d: SynthDevice) => ({ minAlignMask: d.minAlign, segBoundaryBits: 32 });
  // buffers in flight never share a page (dma_unmap_sg names entries by physical address)
  const pagesInUse = new Set<number>();
  const physFor = (d: SynthDevice, size: number, bounce: boolean): number => {
    let page: number;
    do {
      // above 4 GiB when the device's mask makes it bounce, else anywhere
      page = bounce && !d.forced ? 0x100000 + Math.floor(rand() * 0x400000) : 0x1000 + Math.floor(rand() * 0x3f000);
    } while (pagesInUse.has(page));
    pagesInUse.add(page);
    const offsets = [0, 0, 0, 0x200, 0x600, 0x800, 0xa00];
    const off = size < 4096 ? (offsets[Math.floor(rand() * offsets.length)] as number) : 0;
    return page * 4096 + off;
  };
  let lastPhys = 0;
  const mapOne = (
    task: { comm: string; pid: number; cpu: number },
    di: number,
    size: number,
    dir: number,
    sg: number,
  ): Live | null | 'failed' => {
    const d = o.devices[di] as SynthDevice;
    const bounce = d.forced || rand() < 0.85;
    const phys = physFor(d, size, bounce);
    if (!bounce) return { tlb: phys, phys, size, dir, dev: di, bounced: false, sg };
    truth.bounceAttempts++;
    if (d.forced) truth.forced++;
    const mask = d.dmaMask >= 2 ** 53 ? 'ffffffffffffffff' : hex(d.dmaMask);
    emit(
      task,
      'swiotlb_bounced',
      `dev_name: ${d.name} dma_mask=${mask} dev_addr=${hex(phys)} size=${size} ${d.forced ? 'FORCE' : 'NORMAL'}`,
    );
    const r = mem.tblMapSingle({ cpu: task.cpu, origAddr: phys, mappingSize: size, dir: dir as DmaDirection, dev: devParams(d) });
    lastPhys = phys;
    if (!r.ok) return 'failed';
    noteUsed();
    return { tlb: r.tlbAddr, phys, size, dir, dev: di, bounced: true, sg };
  };
  const release = (m: Live) => {
    pagesInUse.delete(Math.floor(m.phys / 4096));
    if (m.bounced) {
      const d = o.devices[m.dev] as SynthDevice;
      const u = mem.tblUnmapSingle(m.tlb, m.size, m.dir as DmaDirection, 1 << 5, devParams(d));
      if (!u.ok) throw new Error(`synth: ${u.error}`);
    }
  };
  while (truth.lines < maxLines && truth.bytes < maxBytes) {
    const wantMap = live.length === 0 || rand() < o.live / (o.live + live.length);
    if (wantMap) {
      const task = tasks[Math.floor(rand() * tasks.length)] as (typeof tasks)[number];
      const di = Math.floor(rand() * o.devices.length);
      const d = o.devices[di] as SynthDevice;
      const dir = Math.floor(rand() * 3);
      const sizes = [512, 1514, 4096, 4096, 8192, 16384, 65536, d.maxSize];
      if (rand() < d.sgShare) {
        // a scatterlist of 2-4 entries; one failing entry fails the whole list (no dma_map_sg event)
        const n = 2 + Math.floor(rand() * 3);
        const entries: Live[] = [];
        let failed = false;
        const id = ++sgId;
        for (let i = 0; i < n && !failed; i++) {
          const size = Math.min(sizes[Math.floor(rand() * (sizes.length - 1))] as number, d.maxSize);
          const m = mapOne(task, di, size, dir, id);
          if (m === 'failed') failed = true;
          else if (m) entries.push(m);
        }
        if (failed) {
          pagesInUse.delete(Math.floor(lastPhys / 4096));
          for (const m of entries) release(m);
          truth.sgFailed++;
          continue;
        }
        const list = (f: (m: Live) => string) => `{${entries.map(f).join(',')}}`;
        const dirName = DIRS[dir] as string;
        const counts = o.sgCounts ? ` nents=${entries.length}/${entries.length} ents=${entries.length}/${entries.length}` : '';
        emit(
          task,
          'dma_map_sg',
          `${d.name} dir=${dirName}${counts} dma_addrs=${list((m) => `0x${hex(m.tlb)}`)} sizes=${list((m) => `0x${hex(m.size)}`)} phys_addrs=${list((m) => `0x${hex(m.phys)}`)} attrs=`,
        );
        for (const m of entries) {
          truth.maps++;
          if (m.bounced) truth.bounced++;
          else truth.direct++;
          live.push(m);
        }
        continue;
      }
      const size = sizes[Math.floor(rand() * sizes.length)] as number;
      const m = mapOne(task, di, size, dir, 0);
      truth.maps++;
      const dirName = DIRS[dir] as string;
      if (m === 'failed') {
        pagesInUse.delete(Math.floor(lastPhys / 4096));
        truth.failed++;
        emit(task, 'dma_map_page', `${d.name} dir=${dirName} dma_addr=ffffffffffffffff size=${size} phys_addr=${hex(lastPhys)} attrs=`);
        continue;
      }
      if (!m) continue;
      if (m.bounced) truth.bounced++;
      else truth.direct++;
      emit(
        task,
        'dma_map_page',
        `${d.name} dir=${dirName} dma_addr=${hex(m.tlb)} size=${size} phys_addr=${hex(m.phys)} attrs=${rand() < 0.1 ? 'SKIP_CPU_SYNC' : ''}`,
      );
      live.push(m);
    } else {
      const k = Math.floor(rand() * live.length);
      const m = live[k] as Live;
      const d = o.devices[m.dev] as SynthDevice;
      const dirName = DIRS[m.dir] as string;
      const task = rand() < 0.5 ? idle(Math.floor(rand() * o.cpus)) : (tasks[Math.floor(rand() * tasks.length)] as (typeof tasks)[number]);
      if (m.sg) {
        const entries = live.filter((x) => x.sg === m.sg);
        for (const e of entries) {
          release(e);
          live.splice(live.indexOf(e), 1);
          if (e.bounced) truth.unmaps++;
          else truth.unmapsDirect++;
        }
        noteUsed();
        emit(task, 'dma_unmap_sg', `${d.name} dir=${dirName} phys_addrs={${entries.map((e) => `0x${hex(e.phys)}`).join(',')}} attrs=`);
        continue;
      }
      if (m.dir !== 1 && rand() < 0.3) {
        truth.syncs += m.bounced ? 1 : 0;
        emit(task, 'dma_sync_single_for_cpu', `${d.name} dir=${dirName} dma_addr=${hex(m.tlb)} size=${m.size}`);
      }
      release(m);
      live.splice(k, 1);
      if (m.bounced) truth.unmaps++;
      else truth.unmapsDirect++;
      emit(task, 'dma_unmap_page', `${d.name} dir=${dirName} dma_addr=${hex(m.tlb)} size=${m.size} attrs=`);
    }
  }
  truth.finalSlots = mem.used;
  return truth;
}

/** The boot log lines that go with a synthetic trace (pool geometry, driver names). */
export function synthDmesg(o: SynthOptions): string[] {
  const end = o.base + o.nslabs * IO_TLB_SIZE;
  const pa = (n: number) => `0x${n.toString(16).padStart(16, '0')}`;
  return [
    '[    0.000000] Linux version 6.12.48-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.12.48-1',
    `[    0.000000] Command line: console=ttyS0 swiotlb=${o.nslabs}`,
    `[    0.081000] software IO TLB: area num ${o.nareas}.`,
    '[    0.712345] PCI-DMA: Using software bounce buffering for IO (SWIOTLB)',
    `[    0.712350] software IO TLB: mapped [mem ${pa(o.base)}-${pa(end)}] (${Math.floor((o.nslabs * IO_TLB_SIZE) / 2 ** 20)}MB)`,
    ...o.devices.map((d, i) => `[    1.${String(200000 + i).padStart(6, '0')}] ${d.driver} ${d.name}: enabling device (0000 -> 0002)`),
  ];
}
