/**
 * Maps with their unmaps and syncs, allocations with their frees, within one driver: a handle
 * stored in buf->dma is released by the unmap that is given buf->dma (or a local copied from it,
 * or dma_unmap_addr(buf, dma)). Then the bug classes the DMA-API debug code catches at run time,
 * found in the source: a map no unmap ever releases, an unmap with another size or direction
 * than its map, the wrong unmap function, and dma_unmap_sg given dma_map_sg's return value.
 */
import { DMA_DIRECTION_NAMES, DmaDirection } from '../model/constants';
import type { SiteFamily } from './api';
import type { HandleRef, Site, SourceDiagnostic } from './sites';

export interface Pair {
  readonly id: number;
  /** The map or allocation. */
  readonly map: number;
  readonly handle: string;
  readonly unmaps: number[];
  readonly syncs: number[];
}

/** Families whose unmaps and syncs take each other's handles. */
function compatible(map: SiteFamily, other: SiteFamily): boolean {
  if (map === other) return true;
  // dma_sync_single_* serve single and page mappings alike
  const single = (f: SiteFamily) => f === 'single' || f === 'page' || f === 'phys';
  return single(map) && single(other);
}

/** The release that belongs to a map family (what the DMA-API debug code checks). */
const RELEASE_NAME: Partial<Record<SiteFamily, string>> = {
  single: 'dma_unmap_single',
  page: 'dma_unmap_page',
  phys: 'dma_unmap_phys',
  sg: 'dma_unmap_sg',
  sgtable: 'dma_unmap_sgtable',
  resource: 'dma_unmap_resource',
  coherent: 'dma_free_coherent',
  noncoherent: 'dma_free_noncoherent',
  pages: 'dma_free_pages',
  pool: 'dma_pool_free',
};

const isRelease = (s: Site) => s.role === 'unmap' || s.role === 'free' || s.role === 'pool_free';
const isOpen = (s: Site) => s.role === 'map' || s.role === 'alloc' || s.role === 'pool_alloc';
const isSync = (s: Site) => s.role === 'sync_cpu' || s.role === 'sync_device';

const refName = (h: HandleRef) => (h.type ? `${h.type}.${h.key}` : h.key);

/** The same handle: the same member, in the same struct when both declarations tell. */
function sameRef(a: Site, ha: HandleRef, b: Site, hb: HandleRef): boolean {
  if (ha.key !== hb.key) return false;
  // a local variable is the same handle only within its function
  if (ha.local || hb.local) return a.file === b.file && a.raw.fn === b.raw.fn && a.raw.fn >= 0;
  return !ha.type || !hb.type || ha.type === hb.type;
}

/** The handle both use, if any. */
function shared(a: Site, b: Site): HandleRef | undefined {
  for (const ha of a.handles)
    for (const hb of b.handles) if (sameRef(a, ha, b, hb)) return ha.local || hb.local ? { ...ha, local: true } : ha;
  return undefined;
}

const sameHandle = (a: Site, b: Site) => shared(a, b) !== undefined;

/** A map whose handle could not be followed to a member: any release might be its. */
const untracked = (m: Site) => m.handles.length === 0 || m.handles.every((h) => h.local);

function span(s: Site) {
  return s.raw.span;
}

const dirName = (d: DmaDirection | undefined) => (d === undefined ? '?' : DMA_DIRECTION_NAMES[d]);

export interface PairingResult {
  readonly pairs: Pair[];
  readonly diagnostics: SourceDiagnostic[];
  /** Site id -> pair id. */
  readonly pairOf: Map<number, number>;
}

/** Pairs the sites of one driver. `report` limits diagnostics to the sites being shown. */
export function pairSites(sites: readonly Site[], firstPairId: number, report: (s: Site) => boolean): PairingResult {
  const pairs: Pair[] = [];
  const diagnostics: SourceDiagnostic[] = [];
  const pairOf = new Map<number, number>();
  const opens = sites.filter(isOpen);
  const releases = sites.filter(isRelease);
  const syncs = sites.filter(isSync);
  for (const m of opens) {
    const unmaps = releases.filter(
      (u) => compatible(m.family, u.family) && (u.family !== 'pool') === (m.family !== 'pool') && sameHandle(m, u),
    );
    const sy = m.role === 'map' ? syncs.filter((x) => compatible(m.family, x.family) && sameHandle(m, x)) : [];
    if (m.handles.length && (unmaps.length || sy.length)) {
      const h = shared(m, (unmaps[0] ?? sy[0]) as Site) ?? (m.handles[0] as HandleRef);
      const p: Pair = {
        id: firstPairId + pairs.length,
        map: m.id,
        handle: refName(h),
        unmaps: unmaps.map((u) => u.id),
        syncs: sy.map((x) => x.id),
      };
      pairs.push(p);
      pairOf.set(m.id, p.id);
      for (const u of [...unmaps, ...sy]) if (!pairOf.has(u.id)) pairOf.set(u.id, p.id);
    }
    if (!report(m) || m.spec.managed) continue;
    const family = releases.filter((u) => compatible(m.family, u.family) && (u.family === 'pool') === (m.family === 'pool'));
    const anyRelease = family.length > 0;
    // kept in a member that no release ever reads, while every release's handle is known
    const member = m.handles.find((h) => !h.local);
    if (anyRelease && member && !unmaps.length && family.every((u) => u.handles.length > 0 && u.handles.every((h) => !h.local))) {
      diagnostics.push({
        file: m.file,
        span: span(m),
        severity: 'warning',
        code: 'unreleased-map',
        message: `${m.api} keeps its handle in ${refName(member)}, which no ${RELEASE_NAME[m.family] ?? 'release'} in this driver is given: the ${m.role === 'map' ? 'mapping (and any bounce slots it holds) is' : 'allocation is'} never released`,
        site: m.id,
      });
      continue;
    }
    if (!anyRelease) {
      const wrong = releases.find((u) => sameHandle(m, u));
      if (wrong) {
        diagnostics.push({
          file: m.file,
          span: span(wrong),
          severity: 'warning',
          code: 'wrong-unmap-function',
          message: `${wrong.api} releases a mapping made by ${m.api} (line ${span(m).row + 1}): it should be ${RELEASE_NAME[m.family] ?? 'its own unmap'} (DMA-API: "frees DMA memory with wrong function")`,
          site: wrong.id,
        });
        continue;
      }
      const what = m.role === 'map' ? 'mapping' : 'allocation';
      diagnostics.push({
        file: m.file,
        span: span(m),
        severity: 'warning',
        code: 'unpaired-map',
        message: `${m.api}: no ${RELEASE_NAME[m.family] ?? 'release'} anywhere in this driver, so the ${what}${m.role === 'map' ? ' and any bounce slots it holds are' : ' is'} never released`,
        site: m.id,
      });
    }
  }
  // unmaps and syncs that disagree with every map of their handle
  for (const u of [...releases, ...syncs]) {
    if (!report(u)) continue;
    const maps = opens.filter((m) => sameHandle(m, u) && compatible(m.family, u.family));
    if (maps.length === 0) {
      const other = opens.find(
        (m) => sameHandle(m, u) && isRelease(u) && m.family !== u.family && m.family !== 'pool' && u.family !== 'pool',
      );
      const already = diagnostics.some((d) => d.code === 'wrong-unmap-function' && d.site === u.id);
      if (other && !already && !releases.some((r) => r !== u && compatible(other.family, r.family) && sameHandle(other, r)))
        diagnostics.push({
          file: u.file,
          span: span(u),
          severity: 'warning',
          code: 'wrong-unmap-function',
          message: `${u.api} releases a mapping made by ${other.api} (line ${span(other).row + 1}): it should be ${RELEASE_NAME[other.family] ?? 'its own unmap'} (DMA-API: "frees DMA memory with wrong function")`,
          site: u.id,
        });
      continue;
    }
    if (u.role === 'free' || u.role === 'pool_free') {
      checkSize(u, maps, diagnostics);
      continue;
    }
    // a local handle may hold mappings of other origins (page pools, helpers): too weak to accuse
    if (maps.some((m) => shared(m, u)?.local)) continue;
    const loose = opens.filter((m) => m.role === 'map' && untracked(m) && compatible(m.family, u.family));
    const d = u.dir?.value;
    if (d !== undefined && !loose.some((m) => m.dir?.value === d || m.dir?.value === undefined)) {
      const dirs = maps.map((m) => m.dir?.value).filter((x): x is DmaDirection => x !== undefined);
      // a bidirectional mapping may be synced either way (kernel/dma/debug.c check_sync)
      const syncOfBidi = isSync(u) && dirs.includes(DmaDirection.BIDIRECTIONAL);
      if (dirs.length === maps.length && !dirs.includes(d) && !syncOfBidi) {
        const m = maps[0] as Site;
        diagnostics.push({
          file: u.file,
          span: span(u),
          severity: 'warning',
          code: 'dir-mismatch',
          message: `${u.api} with ${dirName(d)}, but ${m.api} at line ${span(m).row + 1} mapped ${refName(shared(m, u) as HandleRef)} with ${dirName(m.dir?.value)}: ${isSync(u) ? 'a sync' : 'an unmap'} must use the direction of its map (DMA-API: "different direction")`,
          site: u.id,
        });
      }
    }
    const looseSize = loose.some((m) => m.size?.value === undefined || m.size.value === u.size?.value);
    if (!looseSize) {
      if (!isSync(u)) checkSize(u, maps, diagnostics);
      else checkSyncSize(u, maps, diagnostics);
    }
    if (u.family === 'sg' && u.nents) checkSgNents(u, maps, diagnostics);
  }
  diagnostics.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.span.row - b.span.row || a.span.col - b.span.col));
  return { pairs, diagnostics, pairOf };
}

function checkSize(u: Site, maps: readonly Site[], out: SourceDiagnostic[]): void {
  const v = u.size?.value;
  if (v === undefined) return;
  const sizes = maps.map((m) => m.size?.value);
  if (sizes.some((x) => x === undefined) || sizes.includes(v)) return;
  const m = maps[0] as Site;
  out.push({
    file: u.file,
    span: span(u),
    severity: 'warning',
    code: 'size-mismatch',
    message: `${u.api} releases ${v} bytes, but ${m.api} at line ${span(m).row + 1} ${m.role === 'map' ? 'mapped' : 'allocated'} ${m.size?.value} (${m.size?.text}): the size must be the map's (DMA-API: "frees DMA memory with different size")`,
    site: u.id,
  });
}

function checkSyncSize(u: Site, maps: readonly Site[], out: SourceDiagnostic[]): void {
  const v = u.size?.value;
  const off = u.offset?.value ?? 0;
  if (v === undefined) return;
  const sizes = maps.map((m) => m.size?.value);
  if (sizes.some((x) => x === undefined)) return;
  const max = Math.max(...(sizes as number[]));
  if (off + v <= max) return;
  const m = maps[0] as Site;
  out.push({
    file: u.file,
    span: span(u),
    severity: 'warning',
    code: 'size-mismatch',
    message: `${u.api} syncs ${off ? `${off}+` : ''}${v} bytes, beyond the ${max} bytes ${m.api} at line ${span(m).row + 1} mapped (DMA-API: "sync out of bounds")`,
    site: u.id,
  });
}

/** dma_unmap_sg must get the nents passed to dma_map_sg, not the count it returned. */
function checkSgNents(u: Site, maps: readonly Site[], out: SourceDiagnostic[]): void {
  const n = u.nentsRef;
  if (!n) return;
  for (const m of maps) {
    // a local holds the count in its function only; a member or an array keeps it for another one
    if (n.local && (m.raw.fn !== u.raw.fn || m.file !== u.file)) continue;
    if (m.resultRef?.key === n.key) {
      const given = n.text;
      out.push({
        file: u.file,
        span: span(u),
        severity: 'warning',
        code: 'unmap-sg-nents',
        message: `${u.api} is given ${given}, the count ${m.api} returned at line ${span(m).row + 1}; it must get the nents passed to ${m.api} (${m.nents?.text ?? '?'}), or entries stay mapped`,
        site: u.id,
      });
      return;
    }
  }
}
