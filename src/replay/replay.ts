/**
 * Replays op lines through the model (docs/replay-format.md): one output line per op, the
 * `observed_index` rule (predict without changing state, then follow the kernel), `--check`
 * comparison with the file's answers, and the statistics behind the summary.
 */
import { EventKind, Outcome } from '../analysis/codes';
import type { EventInit } from '../analysis/columns';
import type { EventTable } from '../analysis/eventTable';
import { Recorder } from '../analysis/recorder';
import { DmaDirection } from '../model/constants';
import type { DynamicConfig } from '../model/dynamic';
import { hexAddr } from '../model/hex';
import { devPrefix } from '../model/messages';
import { type DeviceSlotParams, IoTlbPool } from '../model/pool';
import type { KernelProfile } from '../model/profiles';
import { failureReason } from '../model/reasons';
import { IoTlbMem, MapOutcome, type MapResult, type ScratchMapRequest, scratchMapRequest, UnmapOutcome } from '../model/swiotlb';
import { type AllocOp, type MapOp, type OpId, ReplayFormatError, type ReplayHeader, type ReplayOp } from './format';
import { IdTable } from './idTable';
import { LiveTable } from './liveTable';

export interface OpOutcome {
  /** The op's output line (JSON). */
  readonly json: string;
  /** --check: why the line differs from the file's answers. */
  readonly mismatch?: string;
  /** --check: a placement the kernel made in a race, followed as observed. */
  readonly race?: string;
}

/** A failed request as the replay format reports it (its `reason` and the kernel's message). */
export interface ReplayFailure {
  readonly line: number;
  readonly id: OpId;
  readonly reason: string;
  readonly message: string;
}

/** What only a replay knows; the counts are in the books (recorder.ts). */
export class ReplayStats {
  /** Unmaps of ids whose map failed in this replay. */
  unmapsOfFailed = 0;
  slotsFreed = 0;
  /** Failed requests by the replay format's reason (full, too-big, livelock, ...). */
  readonly failures = new Map<string, number>();
  /** The first failures, with the kernel's message. */
  readonly failureSamples: ReplayFailure[] = [];
  peakAreaUsed: number[];
  /** Each device's slot parameters, as its first op gave them. */
  readonly devices = new Map<string, DeviceSlotParams>();
  /** Placements compared with the file's answers (map/alloc lines with an `expect`). */
  compared = 0;
  matched = 0;
  mismatches = 0;
  races = 0;
  /** Maps that followed an observed_index. */
  followed = 0;

  constructor(nareas: number) {
    this.peakAreaUsed = new Array<number>(nareas).fill(0);
  }
}

const MAX_FAILURE_SAMPLES = 50;

/** An id as it appears in JSON output. */
function idJson(id: OpId): string {
  return typeof id === 'number' ? String(id) : JSON.stringify(id);
}

function sameHex(a: unknown, b: number): boolean {
  if (typeof a !== 'string') return false;
  try {
    return BigInt(a) === BigInt(b);
  } catch {
    return false;
  }
}

/** The event-table API names a replay records (interned on first use, in that order). */
const API_NAMES = [
  'swiotlb_tbl_map_single',
  'swiotlb_alloc',
  'swiotlb_tbl_unmap_single',
  'swiotlb_free',
  'swiotlb_sync_single_for_cpu',
  'swiotlb_sync_single_for_device',
] as const;
enum Api {
  Map = 0,
  Alloc = 1,
  Unmap = 2,
  Free = 3,
  SyncForCpu = 4,
  SyncForDevice = 5,
}

/** Slots whose placement text a replayer keeps (a few MB at most). */
const PLACEMENT_CACHE_SLOTS = 1 << 16;

/** A map request the replayer refills for every op (the model reads it during the call only). */
/** The event the replayer refills for every op: every column set, so the recorder sees one shape. */
interface ScratchEvent {
  time: undefined;
  kind: EventKind;
  outcome: Outcome;
  cpu: number;
  device: number;
  api: number;
  size: number;
  dir: DmaDirection | -1;
  attrs: number;
  reasons: number;
  slot: number;
  nslots: number;
  area: number;
  used: number;
  phys: number;
  dma: number;
  copied: number;
  pair: number;
  file: number;
  line: number;
  message: string | undefined;
}

export class Replayer {
  readonly mem: IoTlbMem;
  readonly pool: IoTlbPool;
  readonly stats: ReplayStats;
  private readonly live = new LiveTable();
  /** Ids whose map failed here (e.g. under another profile than the file's): their unmaps free nothing. */
  private readonly failedIds = new IdTable<true>();
  private readonly check: boolean;
  /** Every op is counted here (and becomes a row of the table it was given). */
  readonly recorder: Recorder;
  private lastDev: DeviceSlotParams = { minAlignMask: -1, segBoundaryBits: -1 };
  private lastDevName: string | undefined = undefined;
  private lastDevId = 0;
  /** The device whose slot parameters stats.devices has for sure (ops come in runs of a device). */
  private lastKnownDev: string | undefined = undefined;
  /** The file's id in the event table's names (interned once, not per row). */
  private readonly fileId: number;
  /** API name ids (-1 until first recorded). */
  private readonly apiIds = new Int32Array(API_NAMES.length).fill(-1);
  // One request, two results, one unmap result and one event for every op: nothing of them
  // outlives the op (the results' fields are read before the next op).
  private readonly req = scratchMapRequest();
  /** placementText() of each boot-pool slot at offset 0, as made (pools up to PLACEMENT_CACHE_SLOTS). */
  private readonly placements: (string | undefined)[];
  private readonly predictedOut = new MapOutcome();
  private readonly committedOut = new MapOutcome();
  private readonly unmapOut = new UnmapOutcome();
  private readonly ev: ScratchEvent = {
    time: undefined,
    kind: EventKind.Map,
    outcome: Outcome.None,
    cpu: -1,
    device: 0,
    api: 0,
    size: -1,
    dir: -1,
    attrs: 0,
    reasons: 0,
    slot: -1,
    nslots: 0,
    area: -1,
    used: -1,
    phys: -1,
    dma: -1,
    copied: 0,
    pair: -1,
    file: 0,
    line: 0,
    message: undefined,
  };

  constructor(
    readonly header: ReplayHeader,
    readonly profile: KernelProfile,
    options: { check?: boolean; events?: EventTable; file?: string; dynamic?: DynamicConfig } = {},
  ) {
    this.pool = new IoTlbPool(profile, {
      start: header.poolBase,
      nslabs: header.nslabs,
      nareas: header.nareas,
      pageShift: header.pageShift,
    });
    this.mem = new IoTlbMem(this.pool, options.dynamic);
    this.stats = new ReplayStats(this.pool.nareas);
    this.check = options.check ?? false;
    this.recorder = new Recorder(options.events ? { table: options.events } : {});
    this.fileId = this.recorder.table.files.intern(options.file);
    this.ev.file = this.fileId;
    this.placements = new Array<string | undefined>(Math.min(this.pool.nslabs, PLACEMENT_CACHE_SLOTS)).fill(undefined);
  }

  /** An op's device as the event table's id: interned once per run of ops of one device. */
  private deviceId(name: string | undefined): number {
    if (name !== this.lastDevName) {
      this.lastDevName = name;
      this.lastDevId = this.recorder.table.devices.intern(name);
    }
    return this.lastDevId;
  }

  /** The slot parameters of an op's device: one shared object while they stay the same (ops come in runs of a device). */
  private deviceParams(minAlignMask: number, segBoundaryBits: number): DeviceSlotParams {
    const d = this.lastDev;
    if (d.minAlignMask === minAlignMask && d.segBoundaryBits === segBoundaryBits) return d;
    this.lastDev = { minAlignMask, segBoundaryBits };
    return this.lastDev;
  }

  private apiId(api: Api): number {
    let id = this.apiIds[api] as number;
    if (id < 0) {
      id = this.recorder.table.apis.intern(API_NAMES[api]);
      this.apiIds[api] = id;
    }
    return id;
  }

  /** Records one event (every column given: the defaults of columns.ts where an op has none). */
  private record(
    kind: EventKind,
    outcome: Outcome,
    cpu: number,
    device: number,
    api: Api,
    size: number,
    dir: DmaDirection | -1,
    attrs: number,
    reasons: number,
    slot: number,
    nslots: number,
    area: number,
    dma: number,
    phys: number,
    copied: number,
    pair: number,
    line: number,
    message: string | undefined,
  ): number {
    const e = this.ev;
    e.kind = kind;
    e.outcome = outcome;
    e.cpu = cpu;
    e.device = device;
    e.api = this.apiId(api);
    e.size = size;
    e.dir = dir;
    e.attrs = attrs;
    e.reasons = reasons;
    e.slot = slot;
    e.nslots = nslots;
    e.area = area;
    e.used = this.mem.used;
    e.phys = phys;
    e.dma = dma;
    e.copied = copied;
    e.pair = pair;
    e.line = line;
    e.message = message;
    return this.recorder.add(e as EventInit);
  }

  get liveMappings(): number {
    return this.live.length;
  }

  apply(op: ReplayOp): OpOutcome {
    switch (op.op) {
      case 'map':
      case 'alloc':
        return this.mapOrAlloc(op);
      case 'unmap':
        return this.unmap(op);
      default:
        return this.sync(op);
    }
  }

  private mapOrAlloc(op: MapOp | AllocOp): OpOutcome {
    const live = this.live;
    const prev = live.find(op.id);
    if (prev >= 0) {
      throw new ReplayFormatError(op.line, `id ${JSON.stringify(op.id)} is still mapped (line ${live.line[prev]})`);
    }
    const dev = this.deviceParams(op.minAlignMask, op.boundaryBits);
    const mem = this.mem;
    let req: ScratchMapRequest | undefined;
    if (op.op === 'map') {
      req = this.req;
      req.cpu = op.cpu;
      req.origAddr = op.origAddr;
      req.mappingSize = op.size;
      req.allocSize = op.allocSize;
      req.allocAlignMask = op.allocAlignMask;
      req.dir = op.dir;
      req.attrs = op.attrs;
      req.dev = dev;
    } else if (!this.profile.restrictedAlloc) {
      throw new ReplayFormatError(op.line, `"alloc" ops need restricted DMA pools, which ${this.profile.title} does not have`);
    }
    let predicted: MapResult;
    let committed: MapResult;
    if (op.observedIndex !== undefined) {
      predicted = req ? mem.predictMapSingle(req, this.predictedOut) : mem.predictAlloc(op.cpu, op.size, dev, this.predictedOut);
      const at = req
        ? mem.tblMapSingleAt(req, op.observedIndex, mem.pool, this.committedOut)
        : mem.allocAt(op.cpu, op.size, dev, op.observedIndex, this.committedOut);
      if (!at) {
        throw new ReplayFormatError(
          op.line,
          `observed_index ${op.observedIndex}: that run is not free in the model, so the model state no longer matches the kernel's`,
        );
      }
      committed = at;
      this.stats.followed++;
    } else {
      predicted = req ? mem.tblMapSingle(req, this.predictedOut) : mem.alloc(op.cpu, op.size, dev, this.predictedOut);
      committed = predicted;
    }
    const devId = this.deviceId(op.dev);
    const row = this.recordMap(op, committed, devId);
    const st = this.stats;
    if (op.dev !== undefined && op.dev !== this.lastKnownDev) {
      if (!st.devices.has(op.dev)) st.devices.set(op.dev, dev);
      this.lastKnownDev = op.dev;
    }
    const idText = idJson(op.id);
    if (committed.ok) {
      const r = live.add(op.id);
      live.idText[r] = idText;
      // a slot in a dynamic pool has no place in the boot pool's areas
      const slot = committed.poolKind ? -1 : committed.index;
      live.alloc[r] = req ? 0 : 1;
      live.tlbAddr[r] = committed.tlbAddr;
      live.dev[r] = dev;
      live.size[r] = op.size;
      live.allocSize[r] = req ? (op as MapOp).allocSize : op.size;
      live.dir[r] = req ? (op as MapOp).dir : DmaDirection.BIDIRECTIONAL;
      live.line[r] = op.line;
      live.nslots[r] = committed.nslots;
      live.slot[r] = slot;
      live.devId[r] = devId;
      live.row[r] = row;
      this.notePeak(slot);
    } else {
      this.failedIds.set(op.id, true);
      const reason = committed.reason as string;
      st.failures.set(reason, (st.failures.get(reason) ?? 0) + 1);
      if (st.failureSamples.length < MAX_FAILURE_SAMPLES) {
        st.failureSamples.push({
          line: op.line,
          id: op.id,
          reason,
          message: devPrefix(op.dev ? { name: op.dev } : undefined) + (committed.message ?? ''),
        });
      }
    }
    const used = this.mem.used;
    const obs = op.observedIndex !== undefined ? `"observed_index":${op.observedIndex},` : '';
    let json: string;
    if (predicted.ok) json = `{"id":${idText},"ok":true,${this.placementText(predicted)}${obs}"used":${used}}`;
    else json = `{"id":${idText},"ok":false,"reason":"${predicted.reason}",${obs}"used":${used}}`;
    if (!this.check) return { json };
    return this.checkPlacement(op, predicted, used, json);
  }

  private recordMap(op: MapOp | AllocOp, r: MapResult, devId: number): number {
    let reasons = 0;
    let outcome = Outcome.Bounced;
    if (!r.ok) {
      outcome = r.reason === 'livelock' ? Outcome.Hang : Outcome.Failed;
      reasons = failureReason(r.reason, r.nslots, this.mem);
    }
    const inBoot = r.ok && !r.poolKind;
    const slot = inBoot ? r.index : -1;
    const area = inBoot ? this.pool.areaOf(r.index) : -1;
    const dma = r.ok ? r.tlbAddr : -1;
    const nslots = r.ok ? r.nslots : 0;
    const message = r.ok ? r.warning : r.message;
    if (op.op === 'map') {
      return this.record(
        EventKind.Map,
        outcome,
        op.cpu,
        devId,
        Api.Map,
        op.size,
        op.dir,
        op.attrs,
        reasons,
        slot,
        nslots,
        area,
        dma,
        op.origAddr,
        r.copiedBytes,
        -1,
        op.line,
        message,
      );
    }
    return this.record(
      EventKind.Alloc,
      outcome,
      op.cpu,
      devId,
      Api.Alloc,
      op.size,
      DmaDirection.BIDIRECTIONAL,
      0,
      reasons,
      slot,
      nslots,
      area,
      dma,
      -1,
      r.copiedBytes,
      -1,
      op.line,
      message,
    );
  }

  /**
   * `"index":..,"offset":..,"tlb_addr":"..",` (and the pool of a dynamic one) of a placement.
   * Those at offset 0 in the boot pool are made once per slot: a replay comes back to the same
   * slots again and again.
   */
  private placementText(r: MapResult): string {
    const cache = this.placements;
    const cached = r.offset === 0 && !r.poolKind && r.index < cache.length;
    if (cached) {
      const t = cache[r.index];
      if (t !== undefined) return t;
    }
    // dynamic swiotlb: a buffer outside the boot pool says which pool holds it
    const where = r.poolKind ? `"pool":"${r.poolKind}","pool_base":"${hexAddr(r.poolStart ?? 0)}",` : '';
    const t = `"index":${r.index},"offset":${r.offset},"tlb_addr":"${hexAddr(r.tlbAddr)}",${where}`;
    if (cached) cache[r.index] = t;
    return t;
  }

  private notePeak(slot: number): void {
    const st = this.stats;
    const pool = this.pool;
    if (slot < 0) return;
    const a = pool.areaOf(slot);
    const au = pool.areaUsed[a] as number;
    if (au > (st.peakAreaUsed[a] as number)) st.peakAreaUsed[a] = au;
  }
  private checkPlacement(op: MapOp | AllocOp, got: MapResult, used: number, json: string): OpOutcome {
    const e = op.expect;
    const st = this.stats;
    const diffs: string[] = [];
    if (e) {
      st.compared++;
      if (e.ok !== got.ok) {
        diffs.push(
          e.ok
            ? `expected a success at index ${String(e.index)}, got ${got.reason}`
            : `expected ${String(e.reason)}, got index ${got.index}`,
        );
      } else if (got.ok) {
        if (e.index !== undefined && e.index !== got.index) diffs.push(`index ${got.index}, expected ${String(e.index)}`);
        if (e.offset !== undefined && e.offset !== got.offset) diffs.push(`offset ${got.offset}, expected ${String(e.offset)}`);
        if (e.tlb_addr !== undefined && !sameHex(e.tlb_addr, got.tlbAddr)) {
          diffs.push(`tlb_addr ${hexAddr(got.tlbAddr)}, expected ${String(e.tlb_addr)}`);
        }
      } else if (e.reason !== undefined && e.reason !== got.reason) {
        diffs.push(`reason ${got.reason}, expected ${String(e.reason)}`);
      }
    }
    const placementOk = diffs.length === 0;
    if (op.used !== undefined && op.used !== used) diffs.push(`used ${used}, expected ${op.used}`);
    const where = `line ${op.line}: ${op.op} id ${JSON.stringify(op.id)}`;
    if (op.race && !placementOk) {
      st.races++;
      const usedDiff = diffs.filter((d) => d.startsWith('used'));
      if (usedDiff.length) st.mismatches++;
      return {
        json,
        race: `${where}: race: ${diffs.filter((d) => !d.startsWith('used')).join('; ')} (another CPU changed the area during the kernel's search; the replay follows the kernel)`,
        ...(usedDiff.length ? { mismatch: `${where}: ${usedDiff.join('; ')}` } : {}),
      };
    }
    if (e && placementOk) st.matched++;
    if (diffs.length === 0) return { json };
    st.mismatches++;
    return { json, mismatch: `${where}: ${diffs.join('; ')}` };
  }

  /** The row of a live id (an unknown id is an error in the file). */
  private takeLive(op: ReplayOp): number {
    const r = this.live.find(op.id);
    if (r < 0) throw new ReplayFormatError(op.line, `unknown id ${JSON.stringify(op.id)}: no live mapping with that id`);
    return r;
  }

  private unmap(op: Extract<ReplayOp, { op: 'unmap' }>): OpOutcome {
    const live = this.live;
    let m = live.find(op.id);
    if (m < 0) {
      if (this.failedIds.delete(op.id)) return this.unmapOfFailed(op);
      m = this.takeLive(op);
    }
    const mem = this.mem;
    const isAlloc = live.alloc[m] === 1;
    const tlbAddr = live.tlbAddr[m] as number;
    const dev = live.dev[m] as DeviceSlotParams;
    const size = op.size ?? (live.allocSize[m] as number);
    const dir = op.dir ?? (live.dir[m] as DmaDirection);
    const attrs = op.attrs ?? 0;
    const r = isAlloc
      ? mem.free(tlbAddr, live.size[m] as number, dev, this.unmapOut)
      : mem.tblUnmapSingle(tlbAddr, size, dir, attrs, dev, this.unmapOut);
    if (!r.ok) throw new ReplayFormatError(op.line, r.error ?? 'unmap failed');
    const slot = live.slot[m] as number; // -1 in a dynamic pool
    const mapRow = live.row[m] as number;
    const freedSlots = r.freedSlots;
    const idText = live.idText[m] as string;
    const unmapRow = this.record(
      isAlloc ? EventKind.Free : EventKind.Unmap,
      Outcome.Released,
      -1,
      live.devId[m] as number,
      isAlloc ? Api.Free : Api.Unmap,
      size,
      dir,
      attrs,
      0,
      slot,
      freedSlots,
      slot >= 0 ? this.pool.areaOf(slot) : -1,
      tlbAddr,
      -1,
      r.copiedBytes,
      mapRow,
      op.line,
      undefined,
    );
    live.remove(op.id, m);
    this.recorder.pair(mapRow, unmapRow);
    const st = this.stats;
    st.slotsFreed += freedSlots;
    const used = this.mem.used;
    const json = `{"id":${idText},"freed_slots":${freedSlots},"used":${used}}`;
    if (!this.check) return { json };
    const diffs: string[] = [];
    const fs = op.expect?.freed_slots;
    if (fs !== undefined && fs !== freedSlots) diffs.push(`freed_slots ${freedSlots}, expected ${String(fs)}`);
    if (op.used !== undefined && op.used !== used) diffs.push(`used ${used}, expected ${op.used}`);
    if (diffs.length === 0) return { json };
    st.mismatches++;
    return { json, mismatch: `line ${op.line}: unmap id ${JSON.stringify(op.id)}: ${diffs.join('; ')}` };
  }

  /** The map of this id failed in this replay though the file goes on to unmap it. */
  private unmapOfFailed(op: Extract<ReplayOp, { op: 'unmap' }>): OpOutcome {
    this.stats.unmapsOfFailed++;
    const used = this.mem.used;
    const json = `{"id":${JSON.stringify(op.id)},"freed_slots":0,"used":${used}}`;
    if (!this.check) return { json };
    const fs = op.expect?.freed_slots;
    const diffs: string[] = [];
    if (fs !== undefined && fs !== 0) diffs.push(`nothing to free (the map failed here), expected ${String(fs)} slots freed`);
    if (op.used !== undefined && op.used !== used) diffs.push(`used ${used}, expected ${op.used}`);
    if (diffs.length === 0) return { json };
    this.stats.mismatches++;
    return { json, mismatch: `line ${op.line}: unmap id ${JSON.stringify(op.id)}: ${diffs.join('; ')}` };
  }

  private sync(op: Extract<ReplayOp, { op: 'sync_for_cpu' | 'sync_for_device' }>): OpOutcome {
    const live = this.live;
    const m = this.takeLive(op);
    if (live.alloc[m] === 1)
      throw new ReplayFormatError(op.line, `id ${JSON.stringify(op.id)} is a coherent allocation: it has no streaming syncs`);
    const dir = op.dir ?? (live.dir[m] as DmaDirection);
    const size = op.size ?? (live.size[m] as number) - op.offset;
    const addr = (live.tlbAddr[m] as number) + op.offset;
    const dev = live.dev[m] as DeviceSlotParams;
    const forCpu = op.op === 'sync_for_cpu';
    const r = forCpu ? this.mem.syncSingleForCpu(addr, size, dir, dev) : this.mem.syncSingleForDevice(addr, size, dir, dev);
    this.record(
      forCpu ? EventKind.SyncForCpu : EventKind.SyncForDevice,
      Outcome.Synced,
      -1,
      live.devId[m] as number,
      forCpu ? Api.SyncForCpu : Api.SyncForDevice,
      size,
      dir,
      0,
      0,
      -1,
      0,
      -1,
      addr,
      -1,
      r.bytes,
      live.row[m] as number,
      op.line,
      r.warning,
    );
    return { json: `{"id":${JSON.stringify(op.id)},"copied":${r.bytes},"used":${this.mem.used}}` };
  }
}
