import { DmaDirection } from '../../src/model/constants';
import { type DeviceSlotParams, IoTlbPool } from '../../src/model/pool';
import { resolveProfile } from '../../src/model/profiles';
import { IoTlbMem, type MapResult } from '../../src/model/swiotlb';

export function makeMem(profile: string, start: number, nslabs: number, nareas: number, pageShift = 12): IoTlbMem {
  return new IoTlbMem(new IoTlbPool(resolveProfile(profile), { start, nslabs, nareas, pageShift }));
}

export function dev(minAlignMask = 0, segBoundaryBits = 64): DeviceSlotParams {
  return { minAlignMask, segBoundaryBits };
}

export function map(
  mem: IoTlbMem,
  cpu: number,
  origAddr: number,
  size: number,
  d: DeviceSlotParams,
  extra: Partial<{ allocSize: number; allocAlignMask: number; dir: DmaDirection; attrs: number }> = {},
): MapResult {
  return mem.tblMapSingle({ cpu, origAddr, mappingSize: size, dir: extra.dir ?? DmaDirection.BIDIRECTIONAL, dev: d, ...extra });
}

export function unmap(mem: IoTlbMem, tlbAddr: number, size: number, d: DeviceSlotParams): number {
  const r = mem.tblUnmapSingle(tlbAddr, size, DmaDirection.TO_DEVICE, 0, d);
  if (!r.ok) throw new Error(r.error);
  return r.freedSlots;
}
