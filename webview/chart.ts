/**
 * Bounce-pool occupancy over time on a canvas. The host sends one min/max per pixel column for
 * the visible window, so drawing cost does not depend on the trace length. Wheel or pinch
 * zooms, drag pans, shift+drag selects a time range, double-click resets, arrows move the
 * cursor; the read-out under the chart says what the cursor shows.
 */

import { formatTime } from '../src/analysis/columns';
import type { TimelineColumns } from '../src/analysis/timeline';
import { FAILURE_CAUSES } from '../src/model/reasons';
import { pctText } from '../src/model/units';

import { areaColor } from './slotmapLayout';
import type { Theme } from './theme';

/** What the chart draws: the host's columns for the visible window (hits: the search's rows per column). */
export type ChartData = TimelineColumns & { readonly hits?: Uint32Array };

export interface ChartCallbacks {
  /** The visible window or the width changed: the chart needs new columns. */
  requestData(t0: number, t1: number, columns: number, searchOnly?: boolean): void;
  /** The cursor moved to a time (click, arrows). */
  cursorMoved(time: number): void;
  /** A time range was selected (shift+drag), or cleared (null). */
  rangeSelected(range: [number, number] | null): void;
  /** The visible window settled (for the saved state). */
  viewChanged(view: [number, number]): void;
  /** Milliseconds one frame took while the user zoomed or panned. */
  frame(ms: number): void;
  /** Alt+click: a flag at that time (tracks.ts). */
  flagPlaced?(time: number): void;
}

export const FAILURE_LABELS: readonly string[] = FAILURE_CAUSES.map((c) => c.code);

/** The plot's margins (the tracks under the chart use the same, so their time axes line up). */
export const PAD = { left: 56, right: 12, top: 10, bottom: 34 };

export class OccupancyChart {
  private data: ChartData | null = null;
  private t0 = 0;
  private t1 = 1;
  private start = 0;
  private end = 1;
  private nslabs = 1;
  private nareas = 0;
  private hasClock = false;
  private cursor: number | null = null;
  private selection: [number, number] | null = null;
  private drag: { x: number; t0: number; t1: number; select: boolean; moved: boolean } | null = null;
  /** Where the pointer is over the chart (CSS px from its left), null when it is not. */
  private hoverX: number | null = null;
  /** 'total': min/max band; 'areas': areas stacked. */
  mode: 'total' | 'areas' | 'events' = 'total';
  /** 'pool': y from 0 to the pool size; 'fit': to the peak. */
  yScale: 'pool' | 'fit' = 'pool';
  private peak = 0;
  private requestTimer = 0;
  /** Flags the user placed (drawn as dashed lines, F1, F2, ...). */
  private flags: readonly number[] = [];

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly readout: HTMLElement,
    private theme: Theme,
    private readonly cb: ChartCallbacks,
  ) {
    canvas.tabIndex = 0;
    canvas.setAttribute('role', 'img');
    canvas.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    canvas.addEventListener('mousedown', (e) => this.onDown(e));
    window.addEventListener('mousemove', (e) => this.onMove(e));
    window.addEventListener('mouseup', (e) => this.onUp(e));
    canvas.addEventListener('mousemove', (e) => this.hover(e));
    canvas.addEventListener('mouseleave', () => {
      this.hoverX = null;
      this.updateReadout();
    });
    canvas.addEventListener('dblclick', () => this.resetView());
    canvas.addEventListener('keydown', (e) => this.onKey(e));
    new ResizeObserver(() => this.layout()).observe(canvas);
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.draw();
  }

  setSession(
    s: { t0: number; t1: number; nslabs: number; nareas: number; hasClock: boolean; peak: number },
    view?: [number, number],
  ): void {
    this.start = s.t0;
    this.end = s.t1 > s.t0 ? s.t1 : s.t0 + 1;
    this.nslabs = Math.max(1, s.nslabs);
    this.nareas = s.nareas;
    this.hasClock = s.hasClock;
    this.peak = s.peak;
    this.yScale = s.peak > 0 && s.peak < 0.05 * this.nslabs ? 'fit' : 'pool';
    this.data = null;
    this.cursor = null;
    this.selection = null;
    [this.t0, this.t1] = view ?? [this.start, this.end];
    this.canvas.setAttribute(
      'aria-label',
      `Bounce pool occupancy from ${formatTime(this.start, this.hasClock)} to ${formatTime(this.end, this.hasClock)}`,
    );
    this.layout();
  }

  get view(): [number, number] {
    return [this.t0, this.t1];
  }

  get cursorTime(): number | null {
    return this.cursor;
  }

  setData(d: ChartData): void {
    this.data = d;
    this.draw();
    this.updateReadout();
    // for tests and assistive tech: how much of the chart shows pool use
    let busy = 0;
    let peak = 0;
    for (let c = 0; c < d.columns; c++) {
      const v = d.totalMax[c] as number;
      if (v > 0) busy++;
      if (v > peak) peak = v;
    }
    this.canvas.dataset.columns = String(busy);
    this.canvas.dataset.peak = String(peak);
    // the search's hits drawn: the columns marked and the rows they stand for
    let marked = 0;
    let hits = 0;
    if (d.hits)
      for (let c = 0; c < d.hits.length; c++) {
        const n = d.hits[c] as number;
        if (n) marked++;
        hits += n;
      }
    if (d.hits) {
      this.canvas.dataset.hitColumns = String(marked);
      this.canvas.dataset.hits = String(hits);
    } else {
      delete this.canvas.dataset.hitColumns;
      delete this.canvas.dataset.hits;
    }
  }

  /** Asks for the window's columns again (the search changed: its hits are part of them). */
  refresh(): void {
    this.cb.requestData(this.t0, this.t1, Math.max(1, Math.floor(this.plotWidth)), true);
  }

  setCursor(time: number | null, notify = false): void {
    this.cursor = time;
    if (time === null) delete this.canvas.dataset.cursor;
    else this.canvas.dataset.cursor = String(time);
    // keep the cursor visible
    if (time !== null && (time < this.t0 || time > this.t1)) {
      const span = this.t1 - this.t0;
      this.setView(time - span / 2, time + span / 2);
    } else this.draw();
    if (notify && time !== null) this.cb.cursorMoved(time);
    this.updateReadout();
  }

  setFlags(flags: readonly number[]): void {
    this.flags = flags;
    this.canvas.dataset.flags = String(flags.length);
    this.draw();
  }

  clearSelection(): void {
    this.selection = null;
    this.draw();
  }

  resetView(): void {
    this.setView(this.start, this.end);
  }

  /** The chart as drawn, as a PNG data URL (what the canvas holds, at the screen's resolution). */
  toPng(): string {
    return this.canvas.toDataURL('image/png');
  }

  /**
   * The chart as an SVG document: the same view, series, axes and units as on screen, vector
   * shapes a paper or a bug report can scale. `title` is escaped (it names the input).
   */
  toSvg(title: string): string {
    const th = this.theme;
    const w = Math.max(200, this.canvas.clientWidth);
    const h = Math.max(120, this.canvas.clientHeight);
    const esc = (x: string) => x.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    const plotH = h - PAD.top - PAD.bottom;
    const ymax = this.yMax();
    const yOf = (v: number) => PAD.top + plotH - (Math.min(v, ymax) / ymax) * plotH;
    const f = (n: number) => n.toFixed(1);
    const out: string[] = [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="11">`,
      `<title>${esc(title)}</title>`,
      `<rect width="${w}" height="${h}" fill="${esc(th.background)}"/>`,
    ];
    for (const v of niceTicks(0, ymax, Math.max(2, Math.floor(plotH / 45)), true)) {
      const y = f(yOf(v));
      out.push(`<line x1="${PAD.left}" y1="${y}" x2="${w - PAD.right}" y2="${y}" stroke="${esc(th.grid)}"/>`);
      out.push(`<text x="4" y="${f(yOf(v) + 4)}" fill="${esc(th.muted)}">${Math.round(v)}</text>`);
    }
    const span = this.t1 - this.t0;
    for (const t of niceTicks(this.t0, this.t1, Math.max(2, Math.floor(this.plotWidth / 110)), !this.hasClock)) {
      const x = this.xOf(t);
      out.push(
        `<text x="${f(x)}" y="${h - PAD.bottom + 16}" text-anchor="middle" fill="${esc(th.muted)}">${esc(formatTime(t, this.hasClock, span))}</text>`,
      );
    }
    const unit = this.hasClock ? 'time (s, trace clock)' : 'event counter (trace_clock=counter: no time unit)';
    out.push(`<text x="${w - PAD.right}" y="${h - 3}" text-anchor="end" fill="${esc(th.muted)}">${unit}</text>`);
    out.push(`<text x="4" y="${h - 3}" fill="${esc(th.muted)}">${this.mode === 'events' ? 'events' : 'slots'}</text>`);
    const d = this.data;
    if (d) {
      const colW = this.plotWidth / d.columns;
      const xOfCol = (c: number) => this.xOf(d.t0 + ((d.t1 - d.t0) * c) / d.columns);
      const series = this.mode === 'events' ? d.events : d.totalMax;
      // one path for the band: a step outline closed along the x axis
      const pts: string[] = [`M${f(xOfCol(0))},${f(yOf(0))}`];
      for (let c = 0; c < d.columns; c++) {
        const y = f(yOf(series[c] as number));
        pts.push(`L${f(xOfCol(c))},${y}`, `L${f(xOfCol(c) + colW)},${y}`);
      }
      pts.push(`L${f(xOfCol(d.columns))},${f(yOf(0))}Z`);
      if (this.mode === 'areas' && this.nareas > 0) {
        // areas stacked, as on screen: a path per area in its colour (the legend's)
        const base = new Float64Array(d.columns);
        for (let a = 0; a < this.nareas; a++) {
          const rects: string[] = [];
          for (let c = 0; c < d.columns; c++) {
            const v = d.areaMax[a * d.columns + c] as number;
            if (v <= 0) continue;
            const y1 = yOf((base[c] as number) + v);
            const y0 = yOf(base[c] as number);
            rects.push(`M${f(xOfCol(c))},${f(y1)}h${f(Math.max(colW, 1))}v${f(y0 - y1)}h${f(-Math.max(colW, 1))}Z`);
            base[c] = (base[c] as number) + v;
          }
          if (rects.length) out.push(`<path d="${rects.join('')}" fill="${esc(areaColor(th.palette, a))}"><title>area ${a}</title></path>`);
        }
      } else out.push(`<path d="${pts.join('')}" fill="${esc(th.band)}" fill-opacity="0.35" stroke="${esc(th.band)}" stroke-width="1"/>`);
      if (this.mode !== 'events') {
        const hw: string[] = [];
        for (let c = 0; c < d.columns; c++) {
          const y = f(yOf(d.hiwater[c] as number));
          hw.push(`${c === 0 ? 'M' : 'L'}${f(xOfCol(c))},${y}`, `L${f(xOfCol(c) + colW)},${y}`);
        }
        out.push(`<path d="${hw.join('')}" fill="none" stroke="${esc(th.hiwater)}" stroke-dasharray="4 3"/>`);
        out.push(
          `<line x1="${PAD.left}" y1="${f(yOf(this.nslabs))}" x2="${w - PAD.right}" y2="${f(yOf(this.nslabs))}" stroke="${esc(th.pool)}" stroke-dasharray="2 2"/>`,
        );
      }
      for (let c = 0; c < d.columns; c++) {
        let stack = 0;
        for (let k = 0; k < FAILURE_LABELS.length; k++) {
          if (!d.failures[c * FAILURE_LABELS.length + k]) continue;
          const x = xOfCol(c) + colW / 2;
          const y = PAD.top + plotH - 4 - stack * 7;
          out.push(
            `<path d="M${f(x)},${f(y - 5)}L${f(x - 3.5)},${f(y + 2)}L${f(x + 3.5)},${f(y + 2)}Z" fill="${esc(th.failures[k] as string)}"><title>${esc(FAILURE_LABELS[k] as string)}</title></path>`,
          );
          stack++;
        }
      }
      if (d.hits)
        for (let c = 0; c < d.columns; c++)
          if (d.hits[c])
            out.push(
              `<rect x="${f(xOfCol(c))}" y="${PAD.top}" width="${f(Math.max(colW, 1.5))}" height="6" fill="${esc(th.palette[3] as string)}"><title>${d.hits[c]} hits</title></rect>`,
            );
    }
    out.push('</svg>');
    return out.join('\n');
  }

  private get plotWidth(): number {
    return Math.max(1, this.canvas.clientWidth - PAD.left - PAD.right);
  }

  private layout(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    if (w === 0 || h === 0) return;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.requestNow();
    this.draw();
  }

  private requestNow(): void {
    window.clearTimeout(this.requestTimer);
    this.cb.requestData(this.t0, this.t1, Math.max(1, Math.floor(this.plotWidth)));
    // the window asked for (the tracks under the chart follow it: tests compare the two)
    this.canvas.dataset.view = `${this.t0} ${this.t1}`;
    this.cb.viewChanged([this.t0, this.t1]);
  }

  /** Asks for new columns soon (coalesces bursts of wheel or drag events). */
  private requestSoon(): void {
    window.clearTimeout(this.requestTimer);
    this.requestTimer = window.setTimeout(() => this.requestNow(), 16);
  }

  private setView(t0: number, t1: number): void {
    const full = this.end - this.start;
    const minSpan = Math.max(full / 1e7, this.hasClock ? 1e-9 : 4);
    let span = Math.max(t1 - t0, minSpan);
    span = Math.min(span, full * 1.05);
    let a = t0;
    a = Math.max(a, this.start - full * 0.025);
    a = Math.min(a, this.end + full * 0.025 - span);
    this.t0 = a;
    this.t1 = a + span;
    const t = performance.now();
    this.draw();
    this.cb.frame(performance.now() - t);
    this.requestSoon();
  }

  private timeAt(x: number): number {
    return this.t0 + ((x - PAD.left) / this.plotWidth) * (this.t1 - this.t0);
  }

  private xOf(t: number): number {
    return PAD.left + ((t - this.t0) / (this.t1 - this.t0)) * this.plotWidth;
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    const rect = this.canvas.getBoundingClientRect();
    const at = this.timeAt(e.clientX - rect.left);
    if (Math.abs(e.deltaX) > Math.abs(e.deltaY) && !e.ctrlKey) {
      const dt = (e.deltaX / this.plotWidth) * (this.t1 - this.t0);
      this.setView(this.t0 + dt, this.t1 + dt);
      return;
    }
    // pinch arrives as a wheel event with ctrlKey: finer steps
    const factor = 1.0015 ** (e.deltaY * (e.ctrlKey ? 4 : 1));
    this.setView(at - (at - this.t0) * factor, at + (this.t1 - at) * factor);
  }

  private onDown(e: MouseEvent): void {
    if (e.button !== 0) return;
    this.canvas.focus();
    this.drag = { x: e.clientX, t0: this.t0, t1: this.t1, select: e.shiftKey, moved: false };
  }

  private onMove(e: MouseEvent): void {
    const d = this.drag;
    if (!d) return;
    if (Math.abs(e.clientX - d.x) > 2) d.moved = true;
    if (!d.moved) return;
    const rect = this.canvas.getBoundingClientRect();
    if (d.select) {
      const a = this.timeAt(d.x - rect.left);
      const b = this.timeAt(e.clientX - rect.left);
      this.selection = [Math.min(a, b), Math.max(a, b)];
      this.draw();
    } else {
      const dt = ((d.x - e.clientX) / this.plotWidth) * (d.t1 - d.t0);
      this.setView(d.t0 + dt, d.t1 + dt);
    }
  }

  private onUp(e: MouseEvent): void {
    const d = this.drag;
    this.drag = null;
    if (!d) return;
    if (d.select && d.moved && this.selection) {
      this.cb.rangeSelected(this.selection);
      return;
    }
    if (!d.moved) {
      const rect = this.canvas.getBoundingClientRect();
      const x = e.clientX - rect.left;
      if (x >= PAD.left && e.altKey && this.cb.flagPlaced) this.cb.flagPlaced(this.timeAt(x));
      else if (x >= PAD.left) this.setCursor(this.timeAt(x), true);
    }
  }

  private hover(e: MouseEvent): void {
    if (this.drag) return;
    const rect = this.canvas.getBoundingClientRect();
    this.hoverX = e.clientX - rect.left;
    this.updateReadout();
  }

  private onKey(e: KeyboardEvent): void {
    const span = this.t1 - this.t0;
    const step = span / this.plotWidth;
    const cur = this.cursor ?? (this.t0 + this.t1) / 2;
    switch (e.key) {
      case 'ArrowLeft':
      case 'ArrowRight': {
        const dir = e.key === 'ArrowLeft' ? -1 : 1;
        this.setCursor(cur + dir * step * (e.shiftKey ? 10 : 1), true);
        break;
      }
      case '+':
      case '=':
        this.setView(cur - span / 4, cur + span / 4);
        break;
      case '-':
        this.setView(cur - span, cur + span);
        break;
      case '0':
      case 'Home':
        this.resetView();
        break;
      case 'Escape':
        if (this.selection) {
          this.selection = null;
          this.cb.rangeSelected(null);
          this.draw();
        }
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  private yMax(): number {
    if (this.mode === 'events') {
      let m = 1;
      const ev = this.data?.events;
      if (ev) for (let c = 0; c < ev.length; c++) m = Math.max(m, ev[c] as number);
      return Math.max(4, Math.ceil(m * 1.1));
    }
    return this.yScale === 'pool' ? this.nslabs : Math.max(4, Math.ceil(this.peak * 1.1));
  }

  /** The column of the current data under an x position, or -1. */
  private columnAt(x: number): number {
    const d = this.data;
    if (!d) return -1;
    const t = this.timeAt(x);
    const c = Math.floor(((t - d.t0) / (d.t1 - d.t0)) * d.columns);
    return c >= 0 && c < d.columns ? c : -1;
  }

  /** The readout follows the pointer over the chart, else the cursor; data arriving later (after a zoom or pan) updates it where the pointer is. */
  private updateReadout(): void {
    const d = this.data;
    const at = this.hoverX ?? (this.cursor !== null ? this.xOf(this.cursor) : -1);
    const c = at >= 0 ? this.columnAt(at) : -1;
    if (!d || c < 0) {
      this.readout.textContent =
        this.cursor === null ? 'Click the chart to place the cursor; wheel to zoom, drag to pan, shift+drag to select a time range.' : '';
      return;
    }
    const time = this.timeAt(at);
    const parts = [`${formatTime(time, this.hasClock, this.t1 - this.t0)}`];
    const lo = d.totalMin[c] as number;
    const hi = d.totalMax[c] as number;
    parts.push(
      lo === hi ? `${hi} slots in use (${pctText(hi, this.nslabs)})` : `${lo}-${hi} slots in use (up to ${pctText(hi, this.nslabs)})`,
    );
    if (this.nareas > 1) {
      const areas: string[] = [];
      for (let a = 0; a < this.nareas; a++) areas.push(`area ${a}: ${d.areaMax[a * d.columns + c]}`);
      parts.push(areas.join(', '));
    }
    parts.push(`high-water ${d.hiwater[c]}`);
    const fails: string[] = [];
    for (let k = 0; k < FAILURE_LABELS.length; k++) {
      const n = d.failures[c * FAILURE_LABELS.length + k] as number;
      if (n) fails.push(`${n} ${FAILURE_LABELS[k]}`);
    }
    if (fails.length) parts.push(`failed: ${fails.join(', ')}`);
    if (d.hits?.[c]) parts.push(`${d.hits[c]} search hit${d.hits[c] === 1 ? '' : 's'}`);
    parts.push(`${d.events[c]} events`);
    this.readout.textContent = parts.join(' · ');
  }

  draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    const th = this.theme;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = '11px var(--vscode-font-family, sans-serif)';
    const plotH = h - PAD.top - PAD.bottom;
    const ymax = this.yMax();
    const yOf = (v: number) => PAD.top + plotH - (Math.min(v, ymax) / ymax) * plotH;
    // grid and y labels
    ctx.strokeStyle = th.grid;
    ctx.fillStyle = th.muted;
    ctx.lineWidth = 1;
    for (const v of niceTicks(0, ymax, Math.max(2, Math.floor((h - PAD.top - PAD.bottom) / 45)), true)) {
      const y = Math.round(yOf(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(PAD.left, y);
      ctx.lineTo(w - PAD.right, y);
      ctx.stroke();
      ctx.fillText(String(Math.round(v)), 4, y + 4);
    }
    // x ticks at round values of the trace clock (or whole event numbers)
    const span = this.t1 - this.t0;
    const ticks = niceTicks(this.t0, this.t1, Math.max(2, Math.floor(this.plotWidth / 110)), !this.hasClock);
    for (const t of ticks) {
      const x = this.xOf(t);
      const label = formatTime(t, this.hasClock, span);
      const tw = ctx.measureText(label).width;
      ctx.strokeStyle = th.grid;
      ctx.beginPath();
      ctx.moveTo(Math.round(x) + 0.5, h - PAD.bottom);
      ctx.lineTo(Math.round(x) + 0.5, h - PAD.bottom + 4);
      ctx.stroke();
      ctx.fillText(label, Math.min(Math.max(x - tw / 2, PAD.left), w - PAD.right - tw), h - PAD.bottom + 16);
    }
    // the axes' units: slots up, the input's clock across
    const unit = this.hasClock ? 'time (s, trace clock)' : 'event counter (trace_clock=counter: no time unit)';
    ctx.fillText(unit, w - PAD.right - ctx.measureText(unit).width, h - 3);
    ctx.fillText(this.mode === 'events' ? 'events' : 'slots', 4, h - 3);
    const d = this.data;
    if (d) {
      const colW = this.plotWidth / d.columns;
      // map data columns onto the current view (old data stays visible while panning)
      const xOfCol = (c: number) => this.xOf(d.t0 + ((d.t1 - d.t0) * c) / d.columns);
      ctx.save();
      ctx.beginPath();
      ctx.rect(PAD.left, PAD.top, this.plotWidth, plotH);
      ctx.clip();
      if (this.mode === 'events') {
        // a trace without occupancy (swiotlb_bounced only): its events per column
        ctx.fillStyle = th.band;
        for (let c = 0; c < d.columns; c++) {
          const n = d.events[c] as number;
          if (!n) continue;
          const y1 = yOf(n);
          ctx.fillRect(xOfCol(c), y1, Math.max(colW, 1), yOf(0) - y1);
        }
      } else if (this.mode === 'areas' && this.nareas > 0) {
        for (let c = 0; c < d.columns; c++) {
          let base = 0;
          const x = xOfCol(c);
          for (let a = 0; a < this.nareas; a++) {
            const v = d.areaMax[a * d.columns + c] as number;
            if (v <= 0) continue;
            ctx.fillStyle = areaColor(th.palette, a);
            const y1 = yOf(base + v);
            const y0 = yOf(base);
            ctx.fillRect(x, y1, Math.max(colW, 1), y0 - y1);
            base += v;
          }
        }
      } else {
        ctx.globalAlpha = 0.35;
        ctx.fillStyle = th.band;
        for (let c = 0; c < d.columns; c++) {
          const y1 = yOf(d.totalMax[c] as number);
          const y0 = yOf(0);
          ctx.fillRect(xOfCol(c), y1, Math.max(colW, 1), y0 - y1);
        }
        ctx.globalAlpha = 1;
        ctx.strokeStyle = th.band;
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        for (let c = 0; c < d.columns; c++) {
          const x = xOfCol(c);
          const yMaxC = yOf(d.totalMax[c] as number);
          if (c === 0) ctx.moveTo(x, yMaxC);
          else ctx.lineTo(x, yMaxC);
          ctx.lineTo(x + colW, yMaxC);
        }
        ctx.stroke();
      }
      // high-water mark (none without occupancy)
      if (this.mode !== 'events') {
        ctx.setLineDash([4, 3]);
        ctx.strokeStyle = th.hiwater;
        ctx.lineWidth = 1;
        ctx.beginPath();
        for (let c = 0; c < d.columns; c++) {
          const x = xOfCol(c);
          const y = yOf(d.hiwater[c] as number);
          if (c === 0) ctx.moveTo(x, y);
          else ctx.lineTo(x, y);
          ctx.lineTo(x + colW, y);
        }
        ctx.stroke();
        ctx.setLineDash([]);
      }
      // failures: a mark per column and cause, stacked at the bottom
      for (let c = 0; c < d.columns; c++) {
        let stack = 0;
        for (let k = 0; k < FAILURE_LABELS.length; k++) {
          if (!d.failures[c * FAILURE_LABELS.length + k]) continue;
          ctx.fillStyle = th.failures[k] as string;
          const x = xOfCol(c) + colW / 2;
          const y = PAD.top + plotH - 4 - stack * 7;
          ctx.beginPath();
          ctx.moveTo(x, y - 5);
          ctx.lineTo(x - 3.5, y + 2);
          ctx.lineTo(x + 3.5, y + 2);
          ctx.closePath();
          ctx.fill();
          stack++;
        }
      }
      // search hits: a tick at the top of each column holding one
      if (d.hits) {
        ctx.fillStyle = th.palette[3] as string;
        for (let c = 0; c < d.columns; c++) if (d.hits[c]) ctx.fillRect(xOfCol(c), PAD.top, Math.max(colW, 1.5), 6);
      }
      ctx.restore();
    }
    // the pool size
    if (this.yScale === 'pool' && this.mode !== 'events') {
      ctx.strokeStyle = th.pool;
      ctx.setLineDash([2, 2]);
      ctx.beginPath();
      ctx.moveTo(PAD.left, yOf(this.nslabs) + 0.5);
      ctx.lineTo(w - PAD.right, yOf(this.nslabs) + 0.5);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (this.selection) {
      const [a, b] = this.selection;
      ctx.fillStyle = th.selection;
      ctx.globalAlpha = 0.5;
      ctx.fillRect(this.xOf(a), PAD.top, this.xOf(b) - this.xOf(a), plotH);
      ctx.globalAlpha = 1;
    }
    this.flags.forEach((f, i) => {
      if (f < this.t0 || f > this.t1) return;
      const x = Math.round(this.xOf(f)) + 0.5;
      ctx.strokeStyle = th.hiwater;
      ctx.setLineDash([3, 2]);
      ctx.beginPath();
      ctx.moveTo(x, PAD.top);
      ctx.lineTo(x, PAD.top + plotH);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = th.hiwater;
      ctx.fillText(`F${i + 1}`, x + 2, PAD.top + 10);
    });
    if (this.cursor !== null && this.cursor >= this.t0 && this.cursor <= this.t1) {
      const x = Math.round(this.xOf(this.cursor)) + 0.5;
      ctx.strokeStyle = th.cursor;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(x, PAD.top);
      ctx.lineTo(x, PAD.top + plotH);
      ctx.stroke();
    }
    // axes box
    ctx.strokeStyle = th.grid;
    ctx.strokeRect(PAD.left + 0.5, PAD.top + 0.5, this.plotWidth, plotH);
  }
}

/** Round tick values (1, 2, 5 x 10^k apart) inside [t0, t1]. */
export function niceTicks(t0: number, t1: number, count: number, integer: boolean): number[] {
  const span = t1 - t0;
  if (!(span > 0)) return [t0];
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = mag;
  for (const m of [1, 2, 5, 10]) {
    step = m * mag;
    if (step >= raw) break;
  }
  if (integer) step = Math.max(1, Math.round(step));
  const out: number[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1 && out.length < 50; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}
