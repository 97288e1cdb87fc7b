/**
 * The pool at the cursor's moment, at three zoom levels (slotmapLayout.ts): a cell per 2 KiB slot
 * with a row per 128-slot segment (no bounce buffer ever crosses a row), a cell per segment, or a
 * bar per area. Slots are coloured by device or by age, free slots left empty so fragmentation and
 * alignment holes show at a glance; segments and areas stack their slots' colours by how many
 * there are. The grid fills the container's width; the area and slot labels sit in a column of
 * their own. Only the visible rows are drawn, so a 1 GiB pool scrolls as smoothly as a small one.
 */
import {
  type AgeBucket,
  ageBuckets,
  areaCount,
  deviceColor,
  type LegendEntry,
  labelsInView,
  SLOT_ZOOMS,
  type SlotLayout,
  type SlotZoom,
  slotClass,
  slotLayout,
  slotLegend,
  type UnitStats,
  unitStats,
} from './slotmapLayout';
import type { Theme } from './theme';

export interface SlotMapData {
  readonly row: number;
  readonly time: number;
  readonly owner: Int32Array;
  readonly device: Uint16Array;
  readonly since: Float64Array;
}

const MAX_HEIGHT = 300;

export class SlotMapView {
  private data: SlotMapData | null = null;
  private pool = { nslabs: 0, areaNslabs: 0 };
  private l: SlotLayout = slotLayout(0, this.pool, 'cells');
  private highlighted = -1;
  colorBy: 'device' | 'age' = 'device';
  private zoomLevel: SlotZoom = 'cells';
  /** The level changed (a control, a key, ctrl+wheel or a click): the panel keeps it. */
  onZoom: (z: SlotZoom) => void = () => {};
  /** How the tooltip names a moment and a device (set by the panel for the session). */
  timeLabel: (t: number) => string = (t) => String(t);
  deviceName: (id: number) => string = (id) => `device ${id}`;
  private buckets: AgeBucket[] = ageBuckets(1, false);
  /** Per-unit contents at segment and area level, for the data, colouring and level they were made for. */
  private stats: { key: unknown[]; units: UnitStats[] } | null = null;
  /** The slots last zoomed into or out of (outlined until the next zoom). */
  private focus: [number, number] | null = null;
  private readonly labels: HTMLElement;
  private wheelAt = 0;
  private wheelSum = 0;

  constructor(
    private readonly scroller: HTMLElement,
    private readonly spacer: HTMLElement,
    private readonly canvas: HTMLCanvasElement,
    private readonly tooltip: HTMLElement,
    private theme: Theme,
    private readonly onPick: (ownerRow: number) => void,
  ) {
    this.labels = document.createElement('div');
    this.labels.className = 'slotmap-labels';
    this.labels.setAttribute('aria-hidden', 'true');
    scroller.appendChild(this.labels);
    scroller.addEventListener('scroll', () => this.draw());
    canvas.addEventListener('click', (e) => {
      const u = this.unitAtEvent(e);
      if (u < 0) return;
      if (this.zoomLevel === 'cells') {
        const o = this.data ? (this.data.owner[u] as number) : -1;
        if (o >= 0) this.onPick(o);
        return;
      }
      // a segment or an area: zoom into it, keeping it under the pointer
      this.setZoom(this.finer(), u * this.l.unitSlots, this.pointerY(e));
    });
    canvas.addEventListener('mousemove', (e) => this.hover(e));
    canvas.addEventListener('mouseleave', () => {
      this.tooltip.hidden = true;
    });
    scroller.addEventListener(
      'wheel',
      (e) => {
        if (!e.ctrlKey && !e.metaKey) return;
        e.preventDefault();
        // a trackpad sends many small deltas: a level per 50 px of them, at most one per 150 ms
        this.wheelSum += e.deltaY;
        if (Math.abs(this.wheelSum) < 50 || e.timeStamp - this.wheelAt < 150) return;
        const z = this.wheelSum < 0 ? this.finer() : this.coarser();
        this.wheelSum = 0;
        this.wheelAt = e.timeStamp;
        const u = this.unitAtEvent(e);
        this.setZoom(z, u >= 0 ? u * this.l.unitSlots : Math.max(0, this.keySlot), this.pointerY(e));
      },
      { passive: false },
    );
    scroller.addEventListener('keydown', (e) => this.onKey(e));
    scroller.addEventListener('blur', () => {
      this.tooltip.hidden = true;
    });
    new ResizeObserver(() => this.layout()).observe(scroller);
  }

  get zoom(): SlotZoom {
    return this.zoomLevel;
  }

  /** The age buckets the grid colours by (and the legend lists). */
  get ageScale(): readonly AgeBucket[] {
    return this.buckets;
  }

  private finer(): SlotZoom {
    return SLOT_ZOOMS[Math.max(0, SLOT_ZOOMS.indexOf(this.zoomLevel) - 1)] as SlotZoom;
  }

  private coarser(): SlotZoom {
    return SLOT_ZOOMS[Math.min(SLOT_ZOOMS.length - 1, SLOT_ZOOMS.indexOf(this.zoomLevel) + 1)] as SlotZoom;
  }

  /**
   * Switch the level, keeping slot `at` in view (at `anchorY` px from the top of the view, or
   * centred) and outlining the unit zoomed into or out of.
   */
  setZoom(z: SlotZoom, at = -1, anchorY?: number): void {
    if (z === this.zoomLevel) return;
    const before = this.l;
    this.zoomLevel = z;
    this.layout();
    const l = this.l;
    if (at >= 0 && at < this.pool.nslabs) {
      // the coarser of the two units: the segment zoomed into, the area zoomed out to
      const unitSlots = Math.max(before.unitSlots, l.unitSlots);
      const first = Math.floor(at / unitSlots) * unitSlots;
      this.focus = [first, Math.min(unitSlots, this.pool.nslabs - first)];
      this.keySlot = first;
      const y = l.unitRow(Math.floor(first / l.unitSlots)) * l.rowH;
      const anchor = anchorY ?? (this.scroller.clientHeight - l.rowH) / 2;
      this.scroller.scrollTop = Math.max(0, y - Math.max(0, Math.min(anchor, this.scroller.clientHeight - l.rowH)));
    } else this.focus = null;
    this.scroller.dataset.focus = this.focus ? this.focus.join(' ') : '';
    this.draw();
    // the map grew (zoomed in): keep all of it on screen
    this.scroller.scrollIntoView({ block: 'nearest' });
    this.onZoom(z);
  }

  /** Keyboard: arrows move a cursor (Shift: further), Enter selects its mapping or zooms into it, + and - zoom. */
  private keySlot = -1;

  private onKey(e: KeyboardEvent): void {
    if (!this.pool.nslabs) return;
    const l = this.l;
    const unit = Math.floor(Math.max(this.keySlot, 0) / l.unitSlots);
    let u = unit;
    const step = (d: number) => {
      u += d;
    };
    const vertical = (d: number) => {
      const r = l.unitRow(unit) + d;
      if (r < 0 || r >= l.rows) return;
      u = l.rowFirstUnit(r) + Math.min(l.unitCol(unit), l.rowUnits(r) - 1);
    };
    switch (e.key) {
      case '+':
      case '=':
        this.setZoom(this.finer(), Math.max(0, this.keySlot));
        e.preventDefault();
        return;
      case '-':
      case '_':
        this.setZoom(this.coarser(), Math.max(0, this.keySlot));
        e.preventDefault();
        return;
      case 'ArrowRight':
        step(e.shiftKey ? 8 : 1);
        break;
      case 'ArrowLeft':
        step(e.shiftKey ? -8 : -1);
        break;
      case 'ArrowDown':
        vertical(1);
        break;
      case 'ArrowUp':
        vertical(-1);
        break;
      case 'Home':
        u = 0;
        break;
      case 'End':
        u = l.units - 1;
        break;
      case 'Enter':
      case ' ': {
        e.preventDefault();
        if (this.zoomLevel !== 'cells') {
          this.setZoom(this.finer(), unit * l.unitSlots);
          return;
        }
        const s = this.keySlot;
        const o = this.data && s >= 0 ? (this.data.owner[s] as number) : -1;
        if (o >= 0) this.onPick(o);
        return;
      }
      default:
        return;
    }
    e.preventDefault();
    u = Math.max(0, Math.min(l.units - 1, u));
    this.keySlot = u * l.unitSlots;
    const y = l.unitRow(u) * l.rowH;
    if (y < this.scroller.scrollTop || y > this.scroller.scrollTop + this.scroller.clientHeight - l.rowH) {
      this.scroller.scrollTop = Math.max(0, y - this.scroller.clientHeight / 2);
    }
    this.draw();
    this.describe(u, l.x(l.unitCol(u)), y - this.scroller.scrollTop + l.rowH);
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.draw();
  }

  setPool(nslabs: number, areaNslabs: number, t0: number, t1: number, hasClock = false): void {
    this.pool = { nslabs, areaNslabs };
    this.buckets = ageBuckets(t1 > t0 ? t1 - t0 : 1, hasClock);
    this.data = null;
    this.stats = null;
    this.focus = null;
    this.highlighted = -1;
    this.layout();
  }

  /** The level at the start of a session (the saved one): no scrolling, no outline. */
  restoreZoom(z: SlotZoom): void {
    this.zoomLevel = z;
    this.focus = null;
    this.layout();
  }

  setData(d: SlotMapData): void {
    this.data = d;
    this.draw();
  }

  /** The legend of what is drawn now (slotmapLayout.slotLegend). */
  legend(): LegendEntry[] {
    return slotLegend(this.data, this.colorBy, this.buckets, this.theme.palette, this.theme.free, this.deviceName);
  }

  /** Outline the slots of this mapping (a table selection), scrolling them into view. */
  highlight(ownerRow: number): void {
    this.highlighted = ownerRow;
    const d = this.data;
    const l = this.l;
    if (d && ownerRow >= 0) {
      const s = d.owner.indexOf(ownerRow);
      if (s >= 0) {
        const y = l.unitRow(Math.floor(s / l.unitSlots)) * l.rowH;
        if (y < this.scroller.scrollTop || y > this.scroller.scrollTop + this.scroller.clientHeight - l.rowH) {
          this.scroller.scrollTop = Math.max(0, y - this.scroller.clientHeight / 2);
        }
      }
    }
    this.draw();
  }

  private layout(): void {
    const width = this.scroller.clientWidth;
    if (width === 0) return;
    this.l = slotLayout(width, this.pool, this.zoomLevel);
    const l = this.l;
    // the canvas and the labels follow the scroll position: they must not hold a taller old
    // level's scroll range open (the scroll position is clamped to the new one below)
    this.canvas.style.top = '0px';
    this.labels.style.top = '0px';
    this.tooltip.hidden = true;
    this.spacer.style.height = `${l.rows * l.rowH}px`;
    // small pools: no empty scroll area under the last row
    this.scroller.style.height = `${Math.min(MAX_HEIGHT, l.rows * l.rowH + 2)}px`;
    this.scroller.scrollTop = Math.min(this.scroller.scrollTop, Math.max(0, l.rows * l.rowH - this.scroller.clientHeight));
    // the scroll bar may come or go with the new height: lay out again for the width left
    if (this.scroller.clientWidth !== width) this.l = slotLayout(this.scroller.clientWidth, this.pool, this.zoomLevel);
    const ds = this.scroller.dataset;
    ds.zoom = this.zoomLevel;
    ds.labelW = String(this.l.labelW);
    ds.gridW = String(this.l.gridW);
    ds.perRow = String(this.l.perRow);
    ds.rows = String(this.l.rows);
    ds.rowH = String(this.l.rowH);
    const what = {
      cells: 'one row per 128-slot segment, a cell per slot',
      segments: 'a cell per 128-slot segment',
      areas: 'a bar per area',
    };
    this.scroller.setAttribute('aria-label', `Slot map: ${what[this.zoomLevel]} (+ and - zoom)`);
    this.draw();
  }

  private pointerY(e: MouseEvent): number {
    return e.clientY - this.scroller.getBoundingClientRect().top;
  }

  private unitAtEvent(e: MouseEvent): number {
    const rect = this.canvas.getBoundingClientRect();
    return this.l.unitAt(e.clientX - rect.left, e.clientY - rect.top + this.scroller.scrollTop);
  }

  private hover(e: MouseEvent): void {
    const rect = this.scroller.getBoundingClientRect();
    this.describe(this.unitAtEvent(e), e.clientX - rect.left, e.clientY - rect.top);
  }

  private unitStats(): UnitStats[] {
    const key = [this.data, this.colorBy, this.zoomLevel, this.l.units, this.buckets];
    if (this.stats?.key.every((k, i) => k === key[i])) return this.stats.units;
    const units = this.data ? unitStats(this.data, this.l, this.colorBy, this.buckets) : [];
    this.stats = { key, units };
    return units;
  }

  private devicesText(devices: readonly (readonly [number, number])[]): string {
    if (!devices.length) return '';
    const shown = devices.slice(0, 4).map(([id, n]) => `${this.deviceName(id)} ${n}`);
    if (devices.length > 4) shown.push(`+${devices.length - 4} more`);
    return `; ${shown.join(', ')}`;
  }

  /** The tooltip for a unit, placed near (x, y) in the scroller's box. */
  private describe(u: number, x: number, y: number): void {
    const d = this.data;
    if (u < 0 || !d) {
      this.tooltip.hidden = true;
      return;
    }
    const l = this.l;
    const { areaNslabs } = this.pool;
    const areaOf = (s: number) => (areaNslabs ? Math.floor(s / areaNslabs) : 0);
    let text: string;
    if (this.zoomLevel === 'cells') {
      const s = u;
      const o = d.owner[s] as number;
      const where = `slot ${s} (area ${areaOf(s)}, segment ${Math.floor(s / 128)})`;
      text =
        o < 0
          ? `${where}: free`
          : `${where}: row ${o}, ${this.deviceName(d.device[s] as number)}, mapped at ${this.timeLabel(d.since[s] as number)}`;
    } else {
      const [first, count] = l.unitSlotRange(u);
      const st = this.unitStats()[u];
      const used = st?.used ?? 0;
      const devices = this.devicesText(st?.devices ?? []);
      if (this.zoomLevel === 'segments') {
        text = `segment ${u} (area ${areaOf(first)}, slots ${first}–${first + count - 1}): used ${used} of ${count}${devices}`;
      } else {
        const pct = count ? ((100 * used) / count).toFixed(1) : '0';
        text = `area ${u} (slots ${first}–${first + count - 1}, segments ${Math.floor(first / 128)}–${Math.floor((first + count - 1) / 128)}): used ${used} of ${count} (${pct} %)${devices}`;
      }
    }
    this.tooltip.textContent = text;
    this.tooltip.hidden = false;
    const w = this.tooltip.offsetWidth;
    const h = this.tooltip.offsetHeight;
    this.tooltip.style.left = `${Math.max(0, Math.min(x + 12, this.scroller.clientWidth - w - 4))}px`;
    const below = y + 12 + h <= this.scroller.clientHeight;
    this.tooltip.style.top = `${(below ? y + 12 : Math.max(0, y - h - 8)) + this.scroller.scrollTop}px`;
  }

  /** A used slot's colour (device or age bucket), or null when free. */
  private colorOf(s: number): string | null {
    const d = this.data;
    if (!d || (d.owner[s] as number) < 0) return null;
    return this.classColor(slotClass(d, s, this.colorBy, this.buckets));
  }

  private classColor(c: number): string {
    return this.colorBy === 'device' ? deviceColor(this.theme.palette, c) : (this.buckets[c] as AgeBucket).color;
  }

  draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    const w = this.scroller.clientWidth;
    const h = this.scroller.clientHeight;
    if (w === 0 || h === 0) return;
    const top = this.scroller.scrollTop;
    this.canvas.style.top = `${top}px`;
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const th = this.theme;
    const l = this.l;
    const first = Math.floor(top / l.rowH);
    const last = Math.min(l.rows - 1, Math.floor((top + h) / l.rowH));
    const rowY = (r: number) => r * l.rowH - top;
    const d = this.data;
    const stats = this.zoomLevel === 'cells' ? null : this.unitStats();
    const areaSlots = this.pool.areaNslabs || this.pool.nslabs;
    for (let r = first; r <= last; r++) {
      const y = rowY(r);
      const u0 = l.rowFirstUnit(r);
      const n = l.rowUnits(r);
      for (let c = 0; c < n; c++) {
        const u = u0 + c;
        const x0 = l.x(c);
        const cw = Math.max(1, l.x(c + 1) - x0 - l.gap);
        ctx.fillStyle = th.free;
        if (!stats) {
          ctx.fillStyle = this.colorOf(u) ?? th.free;
          ctx.fillRect(x0, y, cw, l.cellH);
          continue;
        }
        ctx.fillRect(x0, y, cw, l.cellH);
        const st = stats[u];
        const count = l.unitSlotRange(u)[1];
        if (!st || !count) continue;
        // the unit's slots by colour, stacked: up a segment's cell, along an area's bar
        let cum = 0;
        for (const [cls, k] of st.classes) {
          ctx.fillStyle = this.classColor(cls);
          if (this.zoomLevel === 'segments') {
            const a = Math.round((cum * l.cellH) / count);
            const b = Math.round(((cum + k) * l.cellH) / count);
            ctx.fillRect(x0, y + l.cellH - b, cw, Math.max(b - a, 1));
          } else {
            const a = Math.round((cum * cw) / count);
            const b = Math.round(((cum + k) * cw) / count);
            ctx.fillRect(x0 + a, y, Math.max(b - a, 1), l.cellH);
          }
          cum += k;
        }
      }
      // a rule where an area begins (cells and segments)
      if (this.zoomLevel !== 'areas' && r > 0 && (u0 * l.unitSlots) % areaSlots === 0) {
        ctx.fillStyle = th.foreground;
        ctx.fillRect(l.labelW, y - 1, l.gridW, 1);
      }
    }
    // the slots zoomed into or out of
    const outline = (from: number, count: number, color: string, width: number) => {
      const u0 = Math.floor(from / l.unitSlots);
      const u1 = Math.floor((from + count - 1) / l.unitSlots);
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      for (let r = Math.max(first, l.unitRow(u0)); r <= Math.min(last, l.unitRow(u1)); r++) {
        const a = Math.max(u0, l.rowFirstUnit(r)) - l.rowFirstUnit(r);
        const b = Math.min(u1, l.rowFirstUnit(r) + l.rowUnits(r) - 1) - l.rowFirstUnit(r);
        if (b < a) continue;
        // inside the cells' boxes: an outline never reaches into the label column or a neighbour
        const inset = width / 2;
        ctx.strokeRect(l.x(a) + inset, rowY(r) + inset, Math.max(0, l.x(b + 1) - l.x(a) - l.gap - width), Math.max(0, l.cellH - width));
      }
    };
    if (this.focus) outline(this.focus[0], this.focus[1], th.focus, 1);
    // the keyboard's cursor
    if (this.keySlot >= 0 && document.activeElement === this.scroller) outline(this.keySlot, 1, th.foreground, 1);
    // the selected mapping: its runs of slots (cells), or the units holding them
    if (d && this.highlighted >= 0) {
      for (let r = first; r <= last; r++) {
        const u0 = l.rowFirstUnit(r);
        let runStart = -1;
        for (let c = 0; c <= l.rowUnits(r); c++) {
          const [s0, cnt] = c < l.rowUnits(r) ? l.unitSlotRange(u0 + c) : [0, 0];
          let mine = false;
          for (let s = s0; s < s0 + cnt && !mine; s++) mine = d.owner[s] === this.highlighted;
          if (mine && runStart < 0) runStart = c;
          if (!mine && runStart >= 0) {
            outline((u0 + runStart) * l.unitSlots, (c - runStart) * l.unitSlots, th.focus, 2);
            runStart = -1;
          }
        }
      }
    }
    this.drawLabels(top, h);
  }

  /** The label column: DOM text (legible at every cell size), laid out by labelsInView. */
  private drawLabels(top: number, h: number): void {
    const l = this.l;
    const box = this.labels;
    box.style.top = `${top}px`;
    box.style.width = `${l.labelW}px`;
    box.style.height = `${h}px`;
    const stats = this.zoomLevel === 'areas' ? this.unitStats() : null;
    const labels = labelsInView(l, this.pool, top, h, (a) => (stats && this.data ? (stats[a]?.used ?? 0) : null));
    const spans: HTMLElement[] = [];
    for (const lab of labels) {
      const s = document.createElement('span');
      s.className = `slotmap-label ${lab.kind}`;
      s.textContent = lab.text;
      s.style.top = `${lab.y - top}px`;
      spans.push(s);
    }
    box.replaceChildren(...spans);
    box.dataset.areas = String(areaCount(this.pool));
  }
}
