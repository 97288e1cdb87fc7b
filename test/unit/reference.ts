/**
 * An independent, deliberately plain reading of the spec's search pseudo-code
 * (swiotlb-model.md §4.3-4.6): one step per loop iteration, BigInt addresses, no skipping.
 * Tests compare the model's optimised search with it on random pool states.
 */
import type { IoTlbPool } from '../../src/model/pool';

export const REF_FULL = -1;
export const REF_LIVELOCK = -2;

export interface RefRequest {
  cpu: number;
  orig: bigint;
  req: number; // bytes incl. offset
  aam: bigint;
  M: bigint;
  boundaryBits: number;
}

export function referenceSearch(p: IoTlbPool, r: RefRequest): number {
  const n = Math.ceil(r.req / 2048);
  const B = r.boundaryBits >= 64 ? (1n << 64n) - 1n : (1n << BigInt(r.boundaryBits)) - 1n;
  const tbl = BigInt(p.dmaStart) & B;
  const maxs = (B >> 11n) + 1n;
  const tblSlots = (tbl + 2047n) / 2048n;
  const spanBad = (s: number) => ((tblSlots + BigInt(s)) % maxs) + BigInt(n) > maxs;
  const fits = (s: number) => !spanBad(s) && (p.list[s] as number) >= n;
  const slotAddr = (s: number) => tbl + BigInt(s) * 2048n;
  const PS = BigInt(p.pageSize);
  const areaN = p.areaNslabs;
  const a0 = r.cpu & (p.nareas - 1);
  for (let k = 0; k < p.nareas; k++) {
    const a = (a0 + k) % p.nareas;
    if (n > areaN - (p.areaUsed[a] as number)) continue;
    const base = a * areaN;
    const wrap = (i: number) => (i >= areaN ? 0 : i);
    const prof = p.profile;
    let found = REF_FULL;
    if (prof.search === 'A') {
      const aam = prof.hasAllocAlignMask ? r.aam : 0n;
      const m = prof.alignCheckExcludesAllocAlign ? r.M & ~(aam | 0x7ffn) : r.M & ~0x7ffn;
      let stride = Number(m >> 11n) + 1;
      if (r.req >= p.pageSize) stride = Math.max(stride, stride << (p.pageShift - 11));
      if (prof.hasAllocAlignMask) stride = Math.max(stride, Number((aam | 0x7ffn) >> 11n) + 1);
      // ALIGN() is mask arithmetic: for a stride that is not a power of two (e.g. 7 from
      // min_align 0x3fff with alloc_align 0xfff) it is not a round-up to a multiple.
      let i = wrap(((p.areaIndex[a] as number) + stride - 1) & ~(stride - 1));
      const first = i;
      let steps = 0;
      do {
        const s = base + i;
        if ((prof.family === 'P510' || r.orig !== 0n) && (slotAddr(s) & m) !== (r.orig & m)) i = wrap(i + 1);
        else if (fits(s)) {
          found = s;
          break;
        } else i = wrap(i + stride);
        if (++steps > areaN) return REF_LIVELOCK;
      } while (i !== first);
    } else if (prof.search === 'C') {
      let m = r.M | r.aam;
      if (r.req >= p.pageSize) m |= PS - 1n;
      m &= ~0x7ffn;
      const stride = Number(m >> 11n) + 1;
      let i = p.areaIndex[a] as number;
      for (let checked = 0; checked < areaN; ) {
        const s = base + i;
        if (r.orig !== 0n && (slotAddr(s) & m) !== (r.orig & m)) {
          i = wrap(i + 1);
          checked++;
          continue;
        }
        if (fits(s)) {
          found = s;
          break;
        }
        i = wrap(i + stride);
        checked += stride;
      }
    } else {
      let aam = r.aam;
      if (aam === 0n && r.M === 0n && r.req >= p.pageSize) aam = PS - 1n;
      aam |= 0x7ffn;
      const m = r.M & ~aam;
      // biome-ignore lint/complexity/useMathMinMax: BigInt has no Math.max
      const stride = Number((aam > m ? aam : m) >> 11n) + 1;
      let i = p.areaIndex[a] as number;
      for (let checked = 0; checked < areaN; ) {
        const s = base + i;
        const t = slotAddr(s);
        if ((t & aam) !== 0n || (r.orig !== 0n && (t & m) !== (r.orig & m))) {
          i = wrap(i + 1);
          checked++;
          continue;
        }
        if (fits(s)) {
          found = s;
          break;
        }
        i = wrap(i + stride);
        checked += stride;
      }
    }
    if (found >= 0) return found;
  }
  return REF_FULL;
}
