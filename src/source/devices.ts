/**
 * Devices as the driver configures them: dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32)) and
 * the other set-up calls, found in the driver's files, give each device expression its masks and
 * limits. Where the source cannot tell, the kernel's defaults for a PCI device apply and say so.
 */
import { type DeviceConfig, DMA_BIT_MASK, pciDefaults } from '../model/dma/device';
import type { PlatformProfile } from '../model/dma/platform';
import { maskBits } from '../model/hex';
import type { Hints } from './annotations';
import type { Site } from './sites';

export type DeviceProperty = 'dma_mask' | 'coherent_dma_mask' | 'min_align_mask' | 'seg_boundary' | 'max_seg_size';

export interface PropertySource {
  readonly property: DeviceProperty;
  /** The value, when the argument folds to a constant. */
  readonly value?: bigint;
  readonly text: string;
  readonly site: number;
  readonly file: string;
  readonly line: number;
}

export interface DriverDevice {
  /** Groups the expressions that name one device ("pdev->dev"). */
  readonly key: string;
  /** Expressions as written, first seen first. */
  readonly exprs: string[];
  /** Every set-up call for it, in source order. */
  readonly sets: PropertySource[];
}

export interface DeviceView {
  readonly key: string;
  /** The device whose set-up calls apply (this one, or the driver's only configured device). */
  readonly configuredAs?: string;
  readonly dmaMask: { value: bigint; from: string; set?: PropertySource; alternatives: PropertySource[] };
  readonly coherentDmaMask: { value: bigint; from: string; set?: PropertySource };
  readonly minAlignMask: { value: number; from: string; set?: PropertySource };
  readonly segBoundary: { value: bigint; from: string; set?: PropertySource };
  readonly maxSegSize: { value: number; from: string; set?: PropertySource };
}

const PROPS_OF: Record<string, DeviceProperty[]> = {
  set_mask: ['dma_mask'],
  set_coherent_mask: ['coherent_dma_mask'],
  set_mask_and_coherent: ['dma_mask', 'coherent_dma_mask'],
  set_min_align_mask: ['min_align_mask'],
  set_seg_boundary: ['seg_boundary'],
  set_max_seg_size: ['max_seg_size'],
};

/** The devices of one driver (its sites in file and line order). */
export function driverDevices(sites: readonly Site[]): Map<string, DriverDevice> {
  const out = new Map<string, DriverDevice>();
  const get = (key: string) => {
    let d = out.get(key);
    if (!d) {
      d = { key, exprs: [], sets: [] };
      out.set(key, d);
    }
    return d;
  };
  for (const s of sites) {
    if (!s.deviceKey) continue;
    const d = get(s.deviceKey);
    if (s.deviceExpr && !d.exprs.includes(s.deviceExpr)) d.exprs.push(s.deviceExpr);
    for (const property of PROPS_OF[s.role] ?? []) {
      d.sets.push({
        property,
        ...(s.setValue?.value !== undefined ? { value: s.setValue.value } : {}),
        text: s.setValue?.text ?? '',
        site: s.id,
        file: s.file,
        line: s.raw.span.row + 1,
      });
    }
  }
  return out;
}

const where = (p: PropertySource) => `${p.file}:${p.line}`;

/**
 * What the driver sets for a device key. The first set-up call in source order counts: drivers
 * ask for the widest mask first and fall back only when the platform refuses it
 * (if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64))) dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32))),
 * and dma-direct accepts every mask of 32 bits or more.
 */
export function deviceView(key: string, devices: ReadonlyMap<string, DriverDevice>): DeviceView {
  const configured = [...devices.values()].filter((d) => d.sets.length > 0);
  let src = devices.get(key);
  let configuredAs: string | undefined;
  if (!src?.sets.length) {
    // the expressions differ (&pdev->dev in probe, priv->dev in the I/O path), the device does not:
    // with one configured device in the driver, that is the one
    if (configured.length === 1) {
      src = configured[0];
      configuredAs = src?.key;
    } else if (configured.length > 1) {
      const last = key.split('->').pop();
      src = configured.find((d) => d.key.split('->').pop() === last) ?? configured[0];
      configuredAs = src?.key;
    }
  }
  const sets = src?.sets ?? [];
  const first = (p: DeviceProperty) => sets.find((s) => s.property === p && s.value !== undefined);
  const unknown = (p: DeviceProperty) => sets.find((s) => s.property === p && s.value === undefined);
  const note = (p: DeviceProperty, fallback: string): string => {
    const f = first(p);
    if (f) return `${f.text} at ${where(f)}${configuredAs ? ` (on ${configuredAs}, the device this driver configures)` : ''}`;
    const u = unknown(p);
    if (u) return `${u.text} at ${where(u)} does not fold to a constant: ${fallback} assumed (annotate ${p}=)`;
    return fallback;
  };
  const dm = first('dma_mask');
  const cm = first('coherent_dma_mask');
  const ma = first('min_align_mask');
  const sb = first('seg_boundary');
  const ms = first('max_seg_size');
  const dmaMask = dm?.value ?? DMA_BIT_MASK(32);
  return {
    key,
    ...(configuredAs ? { configuredAs } : {}),
    dmaMask: {
      value: dmaMask,
      from: note('dma_mask', 'no dma_set_mask in the driver: the 32-bit default of a PCI device'),
      ...(dm ? { set: dm } : {}),
      alternatives: sets.filter((s) => s.property === 'dma_mask' && s !== dm && s.value !== undefined && s.value !== dm?.value),
    },
    coherentDmaMask: {
      value: cm?.value ?? DMA_BIT_MASK(32),
      from: note('coherent_dma_mask', 'the 32-bit default'),
      ...(cm ? { set: cm } : {}),
    },
    minAlignMask: {
      value: ma?.value !== undefined ? Number(ma.value) : 0,
      from: note('min_align_mask', 'none'),
      ...(ma ? { set: ma } : {}),
    },
    segBoundary: { value: sb?.value ?? DMA_BIT_MASK(32), from: note('seg_boundary', 'the 4 GiB default'), ...(sb ? { set: sb } : {}) },
    maxSegSize: {
      value: ms?.value !== undefined ? Number(ms.value) : 65536,
      from: note('max_seg_size', 'the 64 KiB default'),
      ...(ms ? { set: ms } : {}),
    },
  };
}

/** The decision layer's device: the source's view, then the annotations that apply. */
export function deviceConfig(view: DeviceView, name: string, hints: Hints, platform: PlatformProfile, driver?: string): DeviceConfig {
  const d = { ...pciDefaults(name, platform.defaultCoherent) } as { -readonly [K in keyof DeviceConfig]: DeviceConfig[K] };
  if (driver) d.driver = driver;
  d.dmaMask = hints.dma_mask ?? view.dmaMask.value;
  d.coherentDmaMask =
    hints.coherent_dma_mask ?? (hints.dma_mask !== undefined && !view.coherentDmaMask.set ? hints.dma_mask : view.coherentDmaMask.value);
  d.minAlignMask = hints.min_align_mask ?? view.minAlignMask.value;
  const sb = hints.seg_boundary ?? view.segBoundary.value;
  d.segBoundaryBits = sb === 0n ? 64 : (maskBits(sb) ?? 64);
  d.maxSegSize = hints.max_seg_size ?? view.maxSegSize.value;
  if (hints.bus_dma_limit !== undefined) d.busDmaLimit = BigInt(hints.bus_dma_limit);
  if (hints.coherent !== undefined) d.coherent = platform.arch === 'x86' ? true : hints.coherent;
  if (hints.trusted !== undefined) d.trusted = hints.trusted;
  if (hints.restricted_pool !== undefined) d.restrictedPoolSlots = hints.restricted_pool;
  if (hints.dma_offset !== undefined) d.dmaOffset = hints.dma_offset;
  return d;
}

/** 0xffffffff -> "32-bit". */
export function maskBitsText(m: bigint): string {
  const b = maskBits(m);
  return b === undefined ? `0x${m.toString(16)}` : `${b}-bit`;
}
