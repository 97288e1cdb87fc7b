/**
 * The slot map's geometry, colours and legends as plain functions (no DOM), so the grid, its
 * labels and its legends are computed once and tested without a browser. Three zoom levels:
 * cells (one cell per 2 KiB slot, a row per 128-slot segment), segments (one cell per segment,
 * an area's segments on their own rows) and areas (one bar per area). At every level the grid
 * spans the whole width given (cells stretch; x edges are rounded so no column drifts) and the
 * labels live in their own column left of it.
 */
import { IO_TLB_SEGSIZE } from '../src/model/constants';
import type { PanelState } from '../src/protocol/messages';

export type SlotZoom = NonNullable<PanelState['slotZoom']>;
/** Finest first: "+" moves left in this list, "-" right. */
export const SLOT_ZOOMS: readonly SlotZoom[] = ['cells', 'segments', 'areas'];
export const SLOT_ZOOM_LABELS: Readonly<Record<SlotZoom, string>> = {
  cells: 'Zoom: slots',
  segments: 'Zoom: segments',
  areas: 'Zoom: areas',
};

const SEG = IO_TLB_SEGSIZE;
/** Space kept right of the grid (px): the grid ends this close to its container's edge. */
export const RIGHT_PAD = 2;
/** Label text: its line height and a width per character that holds for 11 px digits. */
export const LABEL_LINE = 13;
const LABEL_CHAR_W = 7;
/** Narrowest segment cell before an area's segments wrap onto more rows. */
const MIN_SEGMENT_W = 12;

export interface SlotLayout {
  readonly zoom: SlotZoom;
  /** Width of the label column; the grid starts here. */
  readonly labelW: number;
  /** Width of the grid: labelW + gridW + RIGHT_PAD = the container's width. */
  readonly gridW: number;
  /** Slots per unit (a cell or bar): 1, 128 or the area's nslabs. */
  readonly unitSlots: number;
  readonly units: number;
  readonly rows: number;
  /** Units in a full row. */
  readonly perRow: number;
  /** Row pitch and the drawn height of a cell in it (the rest is the gap). */
  readonly rowH: number;
  readonly cellH: number;
  /** Gap between cells of a row (px). */
  readonly gap: number;
  rowFirstUnit(r: number): number;
  rowUnits(r: number): number;
  unitRow(u: number): number;
  unitCol(u: number): number;
  /** Left edge of column c (px from the canvas' left). */
  x(c: number): number;
  /** The unit drawn at (x, y in content coordinates), or -1. */
  unitAt(x: number, y: number): number;
  /** First slot and slot count of a unit. */
  unitSlotRange(u: number): [number, number];
}

export interface SlotPool {
  readonly nslabs: number;
  /** Slots per area (0: not known, one area). */
  readonly areaNslabs: number;
}

export function areaCount(p: SlotPool): number {
  return p.areaNslabs > 0 ? Math.max(1, Math.ceil(p.nslabs / p.areaNslabs)) : 1;
}

const num = (n: number) => n.toLocaleString('en-US');
const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

/** The label column's width: the longest label it may show, never less than 48 px. */
export function labelWidth(p: SlotPool, zoom: SlotZoom): number {
  const nareas = areaCount(p);
  const longest = Math.max(
    `area ${nareas - 1}`.length + (zoom === 'areas' ? ' · 100 %'.length : 0),
    zoom === 'areas' ? 0 : String(Math.max(0, p.nslabs - SEG)).length,
  );
  return Math.max(48, Math.ceil(longest * LABEL_CHAR_W) + 10);
}

export function slotLayout(width: number, p: SlotPool, zoom: SlotZoom): SlotLayout {
  const nslabs = Math.max(0, p.nslabs);
  const labelW = labelWidth(p, zoom);
  const gridW = Math.max(SEG, Math.floor(width) - labelW - RIGHT_PAD);
  const areaSlots = p.areaNslabs > 0 ? p.areaNslabs : Math.max(1, nslabs);
  let unitSlots: number;
  let group: number;
  let perRow: number;
  if (zoom === 'cells') {
    unitSlots = 1;
    group = SEG;
    perRow = SEG;
  } else if (zoom === 'segments') {
    unitSlots = SEG;
    const nsegs = Math.ceil(nslabs / SEG);
    // an area's segments start a row of their own when areas are whole segments
    group = areaSlots % SEG === 0 ? Math.max(1, areaSlots / SEG) : Math.max(1, nsegs);
    // wrap an area over 2, 4, 8... rows until its cells are wide enough: rows stay aligned
    let k = 1;
    while (k < group && Math.ceil(group / k) * MIN_SEGMENT_W > gridW) k *= 2;
    perRow = Math.ceil(group / k);
  } else {
    unitSlots = areaSlots;
    group = 1;
    perRow = 1;
  }
  const units = Math.ceil(nslabs / unitSlots);
  const rowsPerGroup = Math.ceil(group / perRow);
  const groups = Math.ceil(units / group);
  const lastGroup = units - (groups - 1) * group;
  const rows = units ? (groups - 1) * rowsPerGroup + Math.ceil(lastGroup / perRow) : 0;
  const cellW = gridW / perRow;
  const rowH = zoom === 'cells' ? clamp(Math.round(cellW), 2, 14) : zoom === 'segments' ? clamp(Math.round(cellW), 10, 28) : 24;
  // between cells of a row; areas' bars are a row each, apart by 6 px
  const gap = zoom === 'areas' ? 0 : cellW >= 4 ? 1 : 0;
  const cellH = Math.max(1, rowH - (zoom === 'areas' ? 6 : gap));
  const rowFirstUnit = (r: number) => Math.floor(r / rowsPerGroup) * group + (r % rowsPerGroup) * perRow;
  const rowUnits = (r: number) => {
    const j = r % rowsPerGroup;
    return Math.max(0, Math.min(perRow, group - j * perRow, units - rowFirstUnit(r)));
  };
  const unitRow = (u: number) => Math.floor(u / group) * rowsPerGroup + Math.floor((u % group) / perRow);
  const unitCol = (u: number) => (u % group) % perRow;
  const x = (c: number) => labelW + Math.round(c * cellW);
  return {
    zoom,
    labelW,
    gridW,
    unitSlots,
    units,
    rows,
    perRow,
    rowH,
    cellH,
    gap,
    rowFirstUnit,
    rowUnits,
    unitRow,
    unitCol,
    x,
    unitAt(px, py) {
      if (px < labelW || px >= labelW + gridW || py < 0) return -1;
      const r = Math.floor(py / rowH);
      if (r >= rows) return -1;
      const c = Math.min(perRow - 1, Math.floor((px - labelW) / cellW));
      // rounding: the cell whose drawn box holds px
      const col = x(c) > px ? c - 1 : x(c + 1) <= px ? c + 1 : c;
      if (col < 0 || col >= rowUnits(r)) return -1;
      return rowFirstUnit(r) + col;
    },
    unitSlotRange(u) {
      const first = u * unitSlots;
      return [first, Math.max(0, Math.min(unitSlots, nslabs - first))];
    },
  };
}

export interface SlotLabel {
  /** Top of the label's line, in content coordinates. */
  readonly y: number;
  readonly text: string;
  readonly kind: 'area' | 'row';
}

/**
 * The labels of the rows in [top, top + height): each area's name at its first row (held at the
 * top of the view while the area is in sight), and between them the first slot of rows far
 * enough apart to be read. No two labels share a line; all of them sit in the label column.
 */
export function labelsInView(
  l: SlotLayout,
  p: SlotPool,
  top: number,
  height: number,
  usedOf: (area: number) => number | null = () => null,
): SlotLabel[] {
  const out: SlotLabel[] = [];
  if (!l.rows) return out;
  const bottom = top + height;
  const nareas = areaCount(p);
  const areaSlots = p.areaNslabs > 0 ? p.areaNslabs : Math.max(1, p.nslabs);
  const rowOfSlot = (s: number) => l.unitRow(Math.floor(s / l.unitSlots));
  const areaText = (a: number) => {
    const used = l.zoom === 'areas' ? usedOf(a) : null;
    return used === null
      ? `area ${a}`
      : `area ${a} · ${Math.round((100 * used) / Math.max(1, Math.min(areaSlots, p.nslabs - a * areaSlots)))} %`;
  };
  // area labels first: they win a line over row labels
  let lastBottom = Number.NEGATIVE_INFINITY;
  const taken: [number, number][] = [];
  for (let a = 0; a < nareas; a++) {
    const ya = rowOfSlot(a * areaSlots) * l.rowH;
    const yb = a + 1 < nareas ? rowOfSlot((a + 1) * areaSlots) * l.rowH : l.rows * l.rowH;
    if (yb <= top || ya >= bottom) continue;
    // sticky: the name stays in view while its area is, but never leaves the area's rows
    const pref = l.zoom === 'areas' ? ya + Math.max(0, (l.cellH - LABEL_LINE) / 2) : ya;
    const y = Math.max(Math.min(top, yb - LABEL_LINE), pref);
    // no half-shown names (an area scrolled almost out), none on another's line
    if (y < top || y + LABEL_LINE > bottom || y < lastBottom) continue;
    out.push({ y, text: areaText(a), kind: 'area' });
    taken.push([y, y + LABEL_LINE]);
    lastBottom = y + LABEL_LINE;
  }
  if (l.zoom === 'areas') return out;
  // row labels every `stride` rows (a power of two, so they fall on round slot numbers)
  let stride = 1;
  while (stride * l.rowH < LABEL_LINE + 2) stride *= 2;
  const first = Math.max(0, Math.floor(top / l.rowH));
  const last = Math.min(l.rows - 1, Math.ceil(bottom / l.rowH));
  for (let r = Math.ceil(first / stride) * stride; r <= last; r += stride) {
    const y = r * l.rowH + Math.max(0, (l.rowH - LABEL_LINE) / 2);
    if (y < top || y + LABEL_LINE > bottom) continue;
    if (taken.some(([a, b]) => y < b && y + LABEL_LINE > a)) continue;
    out.push({ y, text: String(l.rowFirstUnit(r) * l.unitSlots), kind: 'row' });
    taken.push([y, y + LABEL_LINE]);
  }
  return out.sort((a, b) => a.y - b.y);
}

// ---- colours: one function per colouring, used by the grid and its legend alike ----

/** A device's colour (device ids start at 1; 0 is "unknown" and takes the last colour). */
export function deviceColor(palette: readonly string[], id: number): string {
  return palette[(id - 1 + palette.length) % palette.length] as string;
}

/** An area's colour: the chart's "areas stacked", its legend and the area tracks. */
export function areaColor(palette: readonly string[], area: number): string {
  return palette[area % palette.length] as string;
}

/** Young (bright) to held long (dark): perceptually ordered, readable on light and dark themes. */
export const AGE_RAMP: readonly string[] = ['#fde725', '#a0da39', '#4ac16d', '#1fa187', '#277f8e', '#3e4a89'];

export interface AgeBucket {
  /** Ages in [min, max) (max Infinity for the last). */
  readonly min: number;
  readonly max: number;
  readonly color: string;
  readonly label: string;
}

/** A duration in the unit that fits it (decades only: 1 µs, 10 ms, 100 s ...). */
function durationText(s: number): string {
  const [v, u] = s >= 1 ? [s, 's'] : s >= 1e-3 ? [s * 1e3, 'ms'] : s >= 1e-6 ? [s * 1e6, 'µs'] : [s * 1e9, 'ns'];
  return `${Number(v.toPrecision(3))} ${u}`;
}

/**
 * How long a slot has been held at the map's moment, in at most six decades ending at the
 * input's span: seconds for a trace clock, ticks (events) for a counter clock. The grid colours
 * a slot by the bucket its age falls in, the legend lists the same buckets.
 */
export function ageBuckets(span: number, hasClock: boolean): AgeBucket[] {
  const top = Math.floor(Math.log10(span > 0 ? span : 1));
  let edges: number[] = [];
  for (let k = top - 4; k <= top; k++) edges.push(10 ** k);
  // counters tick in whole events: no edge below one tick
  if (!hasClock) edges = edges.filter((e) => e >= 1);
  if (!edges.length) edges = [1];
  const n = edges.length + 1;
  const unit = (v: number) => (hasClock ? durationText(v) : `${num(v)} tick${v === 1 ? '' : 's'}`);
  return Array.from({ length: n }, (_, k) => {
    const min = k === 0 ? 0 : (edges[k - 1] as number);
    const max = k < edges.length ? (edges[k] as number) : Number.POSITIVE_INFINITY;
    let label: string;
    if (k === 0) label = hasClock ? `< ${unit(max)}` : max === 1 ? '0 ticks (this event)' : `< ${unit(max)}`;
    else if (max === Number.POSITIVE_INFINITY) label = `≥ ${unit(min)}`;
    else label = hasClock ? `${unit(min)} – ${unit(max)}` : `${num(min)} – ${unit(max - 1)}`;
    return { min, max, color: AGE_RAMP[Math.round((k * (AGE_RAMP.length - 1)) / Math.max(1, n - 1))] as string, label };
  });
}

export function ageBucketOf(buckets: readonly AgeBucket[], age: number): number {
  for (let k = 0; k < buckets.length - 1; k++) if (age < (buckets[k] as AgeBucket).max) return k;
  return buckets.length - 1;
}

// ---- the map's contents per unit, and the legend of what is drawn ----

export interface SlotContents {
  readonly owner: Int32Array;
  readonly device: Uint16Array;
  readonly since: Float64Array;
  /** The map's moment. */
  readonly time: number;
}

/** What colours a used slot: its device id, or its age bucket. */
export function slotClass(d: SlotContents, s: number, colorBy: 'device' | 'age', buckets: readonly AgeBucket[]): number {
  return colorBy === 'device' ? (d.device[s] as number) : ageBucketOf(buckets, Math.max(0, d.time - (d.since[s] as number)));
}

export interface UnitStats {
  readonly used: number;
  /** [class, slots] by class (device id or age bucket), ascending. */
  readonly classes: readonly (readonly [number, number])[];
  /** [device id, slots], most slots first. */
  readonly devices: readonly (readonly [number, number])[];
}

/** Slots used per unit of the layout, by class and by device (the segments' and areas' cells). */
export function unitStats(
  d: SlotContents,
  l: Pick<SlotLayout, 'units' | 'unitSlotRange'>,
  colorBy: 'device' | 'age',
  buckets: readonly AgeBucket[],
): UnitStats[] {
  const out: UnitStats[] = [];
  for (let u = 0; u < l.units; u++) {
    const [first, count] = l.unitSlotRange(u);
    const classes = new Map<number, number>();
    const devices = new Map<number, number>();
    let used = 0;
    for (let s = first; s < first + count; s++) {
      if ((d.owner[s] as number) < 0) continue;
      used++;
      const c = slotClass(d, s, colorBy, buckets);
      classes.set(c, (classes.get(c) ?? 0) + 1);
      const dev = d.device[s] as number;
      devices.set(dev, (devices.get(dev) ?? 0) + 1);
    }
    out.push({
      used,
      classes: [...classes].sort((a, b) => a[0] - b[0]),
      devices: [...devices].sort((a, b) => b[1] - a[1] || a[0] - b[0]),
    });
  }
  return out;
}

export interface LegendEntry {
  readonly color: string;
  readonly label: string;
  /** 'age' entries carry their bucket, 'device' and 'area' entries their id. */
  readonly kind: 'free' | 'device' | 'age' | 'area' | 'more';
  readonly key?: number;
  readonly bucket?: AgeBucket;
}

/** Device entries listed before "+ n more". */
export const LEGEND_DEVICES = 12;

/**
 * The slot map's legend: free, then what colours the slots now drawn. By device: the devices
 * holding slots in the map at its moment, most slots first. By age: every age bucket.
 */
export function slotLegend(
  d: SlotContents | null,
  colorBy: 'device' | 'age',
  buckets: readonly AgeBucket[],
  palette: readonly string[],
  free: string,
  deviceName: (id: number) => string,
): LegendEntry[] {
  const out: LegendEntry[] = [{ color: free, label: 'free', kind: 'free' }];
  if (colorBy === 'age') {
    for (const b of buckets) out.push({ color: b.color, label: b.label, kind: 'age', bucket: b });
    return out;
  }
  if (!d) return out;
  const slots = new Map<number, number>();
  for (let s = 0; s < d.owner.length; s++) {
    if ((d.owner[s] as number) < 0) continue;
    const id = d.device[s] as number;
    slots.set(id, (slots.get(id) ?? 0) + 1);
  }
  const shown = [...slots].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  for (const [id, n] of shown.slice(0, LEGEND_DEVICES))
    out.push({ color: deviceColor(palette, id), label: `${deviceName(id)} (${num(n)})`, kind: 'device', key: id });
  if (shown.length > LEGEND_DEVICES)
    out.push({ color: 'transparent', label: `+ ${shown.length - LEGEND_DEVICES} more devices`, kind: 'more' });
  return out;
}

/** The chart's "areas stacked" legend: one entry per area, in the colours the chart draws. */
export function areaLegend(palette: readonly string[], nareas: number): LegendEntry[] {
  return Array.from({ length: nareas }, (_, a) => ({ color: areaColor(palette, a), label: `area ${a}`, kind: 'area' as const, key: a }));
}
