/**
 * Replays op lines through the model (docs/replay-format.md): one output line per op, the
 * `observed_index` rule (predict without changing state, then follow the kernel), `--check`
 * comparison with the file's answers, and the statistics behind the summary.
 */
import { EventKind, Outcome } from '../analysis/codes';
import type { EventTable } from '../analysis/eventTable';
import { Recorder } from '../analysis/recorder';
import { DmaDirection } from '../model/constants';
import type { DynamicConfig } from '../model/dynamic';
import { hexAddr } from '../model/hex';
import { devPrefix } from '../model/messages';
import { type DeviceSlotParams, IoTlbPool } from '../model/pool';
import type { KernelProfile } from '../model/profiles';
import { failureReason } from '../model/reasons';
import { IoTlbMem, type MapResult } from '../model/swiotlb';
import { type AllocOp, type MapOp, type OpId, ReplayFormatError, type ReplayHeader, type ReplayOp } from './format';
import { IdTable } from './idTable';

interface LiveMapping {
  readonly kind: 'map' | 'alloc';
  readonly tlbAddr: number;
  readonly dev: DeviceSlotParams;
  readonly size: number;
  readonly allocSize: number;
  readonly dir: DmaDirection;
  readonly line: number;
  readonly nslots: number;
  /** First slot of the run. */
  readonly slot: number;
  readonly devName: string | undefined;
  /** The device's id in the event table's names (0: none). */
  readonly devId: number;
  /** Its row in the event table, or -1. */
  readonly row: number;
}

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

export class Replayer {
  readonly mem: IoTlbMem;
  readonly pool: IoTlbPool;
  readonly stats: ReplayStats;
  private readonly live = new IdTable<LiveMapping>();
  /** Ids whose map failed here (e.g. under another profile than the file's): their unmaps free nothing. */
  private readonly failedIds = new IdTable<true>();
  private readonly check: boolean;
  /** Every op is counted here (and becomes a row of the table it was given). */
  readonly recorder: Recorder;
  private lastDev: DeviceSlotParams = { minAlignMask: -1, segBoundaryBits: -1 };
  private lastDevName: string | undefined = undefined;
  private lastDevId = 0;
  /** The file's id in the event table's names (interned once, not per row). */
  private readonly fileId: number;

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

  get liveMappings(): number {
    return this.live.size;
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
    const prev = this.live.get(op.id);
    if (prev) {
      throw new ReplayFormatError(op.line, `id ${JSON.stringify(op.id)} is still mapped (line ${prev.line})`);
    }
    const dev = this.deviceParams(op.minAlignMask, op.boundaryBits);
    const mem = this.mem;
    const isMap = op.op === 'map';
    const req = isMap
      ? {
          cpu: op.cpu,
          origAddr: op.origAddr,
          mappingSize: op.size,
          allocSize: op.allocSize,
          allocAlignMask: op.allocAlignMask,
          dir: op.dir,
          attrs: op.attrs,
          dev,
        }
      : undefined;
    if (!isMap && !this.profile.restrictedAlloc) {
      throw new ReplayFormatError(op.line, `"alloc" ops need restricted DMA pools, which ${this.profile.title} does not have`);
    }
    let predicted: MapResult;
    let committed: MapResult;
    if (op.observedIndex !== undefined) {
      predicted = req ? mem.predictMapSingle(req) : mem.predictAlloc(op.cpu, op.size, dev);
      const at = req ? mem.tblMapSingleAt(req, op.observedIndex) : mem.allocAt(op.cpu, op.size, dev, op.observedIndex);
      if (!at) {
        throw new ReplayFormatError(
          op.line,
          `observed_index ${op.observedIndex}: that run is not free in the model, so the model state no longer matches the kernel's`,
        );
      }
      committed = at;
      this.stats.followed++;
    } else {
      predicted = req ? mem.tblMapSingle(req) : mem.alloc(op.cpu, op.size, dev);
      committed = predicted;
    }
    const row = this.recordMap(op, committed);
    const st = this.stats;
    if (op.dev !== undefined && !st.devices.has(op.dev)) st.devices.set(op.dev, dev);
    if (committed.ok) {
      this.live.set(op.id, {
        kind: op.op,
        tlbAddr: committed.tlbAddr,
        dev,
        size: op.size,
        allocSize: isMap ? op.allocSize : op.size,
        dir: isMap ? op.dir : DmaDirection.BIDIRECTIONAL,
        line: op.line,
        nslots: committed.nslots,
        slot: committed.poolKind ? -1 : committed.index,
        devName: op.dev,
        devId: this.deviceId(op.dev),
        row,
      });
      // a slot in a dynamic pool has no place in the boot pool's areas
      this.notePeak(committed.poolKind ? -1 : committed.index);
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
    // dynamic swiotlb: a buffer outside the boot pool says which pool holds it
    const where = predicted.poolKind ? `"pool":"${predicted.poolKind}","pool_base":"${hexAddr(predicted.poolStart ?? 0)}",` : '';
    const json = predicted.ok
      ? `{"id":${idJson(op.id)},"ok":true,"index":${predicted.index},"offset":${predicted.offset},"tlb_addr":"${hexAddr(predicted.tlbAddr)}",${where}${op.observedIndex !== undefined ? `"observed_index":${op.observedIndex},` : ''}"used":${used}}`
      : `{"id":${idJson(op.id)},"ok":false,"reason":"${predicted.reason}",${op.observedIndex !== undefined ? `"observed_index":${op.observedIndex},` : ''}"used":${used}}`;
    if (!this.check) return { json };
    return this.checkPlacement(op, predicted, used, json);
  }

  private recordMap(op: MapOp | AllocOp, r: MapResult): number {
    const isMap = op.op === 'map';
    let reasons = 0;
    let outcome = Outcome.Bounced;
    if (!r.ok) {
      outcome = r.reason === 'livelock' ? Outcome.Hang : Outcome.Failed;
      reasons = failureReason(r.reason, r.nslots, this.mem);
    }
    const pool = this.pool;
    return this.recorder.add({
      kind: isMap ? EventKind.Map : EventKind.Alloc,
      outcome,
      cpu: op.cpu,
      device: this.deviceId(op.dev),
      api: isMap ? 'swiotlb_tbl_map_single' : 'swiotlb_alloc',
      size: op.size,
      dir: isMap ? op.dir : DmaDirection.BIDIRECTIONAL,
      attrs: isMap ? op.attrs : 0,
      reasons,
      slot: r.ok && !r.poolKind ? r.index : -1,
      nslots: r.ok ? r.nslots : 0,
      area: r.ok && !r.poolKind ? pool.areaOf(r.index) : -1,
      dma: r.ok ? r.tlbAddr : -1,
      used: this.mem.used,
      phys: isMap ? op.origAddr : -1,
      copied: r.copiedBytes,
      file: this.fileId,
      line: op.line,
      message: r.ok ? r.warning : r.message,
    });
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

  private takeLive(op: ReplayOp): LiveMapping {
    const m = this.live.get(op.id);
    if (!m) throw new ReplayFormatError(op.line, `unknown id ${JSON.stringify(op.id)}: no live mapping with that id`);
    return m;
  }

  private unmap(op: Extract<ReplayOp, { op: 'unmap' }>): OpOutcome {
    const m = this.live.get(op.id) ?? (this.failedIds.delete(op.id) ? undefined : this.takeLive(op));
    if (!m) return this.unmapOfFailed(op);
    const mem = this.mem;
    const r =
      m.kind === 'alloc'
        ? mem.free(m.tlbAddr, m.size, m.dev)
        : mem.tblUnmapSingle(m.tlbAddr, op.size ?? m.allocSize, op.dir ?? m.dir, op.attrs ?? 0, m.dev);
    if (!r.ok) throw new ReplayFormatError(op.line, r.error ?? 'unmap failed');
    this.live.delete(op.id);
    const slot = m.slot; // -1 in a dynamic pool
    const unmapRow = this.recorder.add({
      kind: m.kind === 'alloc' ? EventKind.Free : EventKind.Unmap,
      outcome: Outcome.Released,
      device: m.devId,
      api: m.kind === 'alloc' ? 'swiotlb_free' : 'swiotlb_tbl_unmap_single',
      size: op.size ?? m.allocSize,
      dir: op.dir ?? m.dir,
      attrs: op.attrs ?? 0,
      slot,
      nslots: r.freedSlots,
      area: slot >= 0 ? this.pool.areaOf(slot) : -1,
      used: this.mem.used,
      dma: m.tlbAddr,
      copied: r.copiedBytes,
      pair: m.row,
      file: this.fileId,
      line: op.line,
    });
    this.recorder.pair(m.row, unmapRow);
    const st = this.stats;
    st.slotsFreed += r.freedSlots;
    const used = this.mem.used;
    const json = `{"id":${idJson(op.id)},"freed_slots":${r.freedSlots},"used":${used}}`;
    if (!this.check) return { json };
    const diffs: string[] = [];
    const fs = op.expect?.freed_slots;
    if (fs !== undefined && fs !== r.freedSlots) diffs.push(`freed_slots ${r.freedSlots}, expected ${String(fs)}`);
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
    const m = this.takeLive(op);
    if (m.kind !== 'map')
      throw new ReplayFormatError(op.line, `id ${JSON.stringify(op.id)} is a coherent allocation: it has no streaming syncs`);
    const dir = op.dir ?? m.dir;
    const size = op.size ?? m.size - op.offset;
    const addr = m.tlbAddr + op.offset;
    const r =
      op.op === 'sync_for_cpu' ? this.mem.syncSingleForCpu(addr, size, dir, m.dev) : this.mem.syncSingleForDevice(addr, size, dir, m.dev);
    this.recorder.add({
      kind: op.op === 'sync_for_cpu' ? EventKind.SyncForCpu : EventKind.SyncForDevice,
      outcome: Outcome.Synced,
      device: m.devId,
      api: op.op === 'sync_for_cpu' ? 'swiotlb_sync_single_for_cpu' : 'swiotlb_sync_single_for_device',
      size,
      dir,
      dma: addr,
      copied: r.bytes,
      pair: m.row,
      used: this.mem.used,
      file: this.fileId,
      line: op.line,
      message: r.warning,
    });
    return { json: `{"id":${JSON.stringify(op.id)},"copied":${r.bytes},"used":${this.mem.used}}` };
  }
}
