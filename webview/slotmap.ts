/**
 * The pool as a grid of 2 KiB slots at the cursor's moment: one row per 128-slot segment (no
 * bounce buffer ever crosses a row), areas separated by a rule, slots coloured by device or by
 * age, free slots left empty so fragmentation and alignment holes show at a glance. Only the
 * visible rows are drawn, so a 1 GiB pool scrolls as smoothly as a small one.
 */
import { IO_TLB_SEGSIZE } from '../src/model/constants';
import type { Theme } from './theme';

/** Slots per row: no bounce buffer crosses a segment. */
const SEG = IO_TLB_SEGSIZE;
const LABEL_W = 64;

export interface SlotMapData {
  readonly row: number;
  readonly time: number;
  readonly owner: Int32Array;
  readonly device: Uint16Array;
  readonly since: Float64Array;
}

export class SlotMapView {
  private data: SlotMapData | null = null;
  private nslabs = 0;
  private areaNslabs = 0;
  private cell = 6;
  private highlighted = -1;
  colorBy: 'device' | 'age' = 'device';
  /** How the tooltip names a moment and a device (set by the panel for the session). */
  timeLabel: (t: number) => string = (t) => String(t);
  deviceName: (id: number) => string = (id) => `device ${id}`;
  private t0 = 0;
  private t1 = 1;

  constructor(
    private readonly scroller: HTMLElement,
    private readonly spacer: HTMLElement,
    private readonly canvas: HTMLCanvasElement,
    private readonly tooltip: HTMLElement,
    private theme: Theme,
    private readonly onPick: (ownerRow: number) => void,
  ) {
    scroller.addEventListener('scroll', () => this.draw());
    canvas.addEventListener('click', (e) => {
      const s = this.slotAt(e);
      const o = s >= 0 && this.data ? (this.data.owner[s] as number) : -1;
      if (o >= 0) this.onPick(o);
    });
    canvas.addEventListener('mousemove', (e) => this.hover(e));
    canvas.addEventListener('mouseleave', () => {
      this.tooltip.hidden = true;
    });
    scroller.addEventListener('keydown', (e) => this.onKey(e));
    scroller.addEventListener('blur', () => {
      this.tooltip.hidden = true;
    });
    new ResizeObserver(() => this.layout()).observe(scroller);
  }

  /** Keyboard: arrows move a slot cursor (Shift: a segment row at a time), Enter selects its mapping. */
  private keySlot = -1;

  private onKey(e: KeyboardEvent): void {
    if (!this.nslabs) return;
    let s = Math.max(this.keySlot, 0);
    switch (e.key) {
      case 'ArrowRight':
        s += e.shiftKey ? 8 : 1;
        break;
      case 'ArrowLeft':
        s -= e.shiftKey ? 8 : 1;
        break;
      case 'ArrowDown':
        s += SEG;
        break;
      case 'ArrowUp':
        s -= SEG;
        break;
      case 'Home':
        s = 0;
        break;
      case 'End':
        s = this.nslabs - 1;
        break;
      case 'Enter':
      case ' ': {
        const o = this.data && s >= 0 ? (this.data.owner[s] as number) : -1;
        if (o >= 0) this.onPick(o);
        e.preventDefault();
        return;
      }
      default:
        return;
    }
    e.preventDefault();
    this.keySlot = Math.max(0, Math.min(this.nslabs - 1, s));
    const y = Math.floor(this.keySlot / SEG) * this.cell;
    if (y < this.scroller.scrollTop || y > this.scroller.scrollTop + this.scroller.clientHeight - this.cell) {
      this.scroller.scrollTop = Math.max(0, y - this.scroller.clientHeight / 2);
    }
    this.draw();
    this.describe(this.keySlot, LABEL_W + (this.keySlot % SEG) * this.cell, y - this.scroller.scrollTop + this.cell);
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.draw();
  }

  setPool(nslabs: number, areaNslabs: number, t0: number, t1: number): void {
    this.nslabs = nslabs;
    this.areaNslabs = areaNslabs;
    this.t0 = t0;
    this.t1 = t1 > t0 ? t1 : t0 + 1;
    this.data = null;
    this.highlighted = -1;
    this.layout();
  }

  setData(d: SlotMapData): void {
    this.data = d;
    this.draw();
  }

  /** Outline the slots of this mapping (a table selection), scrolling them into view. */
  highlight(ownerRow: number): void {
    this.highlighted = ownerRow;
    const d = this.data;
    if (d && ownerRow >= 0) {
      const s = d.owner.indexOf(ownerRow);
      if (s >= 0) {
        const y = Math.floor(s / SEG) * this.cell;
        if (y < this.scroller.scrollTop || y > this.scroller.scrollTop + this.scroller.clientHeight - this.cell) {
          this.scroller.scrollTop = Math.max(0, y - this.scroller.clientHeight / 2);
        }
      }
    }
    this.draw();
  }

  private get rows(): number {
    return Math.ceil(this.nslabs / SEG);
  }

  private layout(): void {
    const width = this.scroller.clientWidth;
    if (width === 0) return;
    this.cell = Math.max(2, Math.min(8, Math.floor((width - LABEL_W - 8) / SEG)));
    this.spacer.style.height = `${this.rows * this.cell}px`;
    // small pools: no empty scroll area under the last segment
    this.scroller.style.height = `${Math.min(300, this.rows * this.cell + 2)}px`;
    this.draw();
  }

  private slotAt(e: MouseEvent): number {
    const rect = this.canvas.getBoundingClientRect();
    const x = e.clientX - rect.left - LABEL_W;
    const y = e.clientY - rect.top + this.scroller.scrollTop;
    if (x < 0) return -1;
    const col = Math.floor(x / this.cell);
    const row = Math.floor(y / this.cell);
    if (col >= SEG || row >= this.rows) return -1;
    const s = row * SEG + col;
    return s < this.nslabs ? s : -1;
  }

  private hover(e: MouseEvent): void {
    const rect = this.scroller.getBoundingClientRect();
    this.describe(this.slotAt(e), e.clientX - rect.left, e.clientY - rect.top);
  }

  /** The tooltip for a slot, placed near (x, y) in the scroller's box. */
  private describe(s: number, x: number, y: number): void {
    const d = this.data;
    if (s < 0 || !d) {
      this.tooltip.hidden = true;
      return;
    }
    const o = d.owner[s] as number;
    const area = this.areaNslabs ? Math.floor(s / this.areaNslabs) : 0;
    const where = `slot ${s} (area ${area}, segment ${Math.floor(s / SEG)})`;
    this.tooltip.textContent =
      o < 0
        ? `${where}: free`
        : `${where}: row ${o}, ${this.deviceName(d.device[s] as number)}, mapped at ${this.timeLabel(d.since[s] as number)}`;
    this.tooltip.hidden = false;
    this.tooltip.style.left = `${Math.min(x + 12, this.scroller.clientWidth - 260)}px`;
    this.tooltip.style.top = `${y + 12 + this.scroller.scrollTop}px`;
  }

  private colorOf(s: number): string | null {
    const d = this.data;
    if (!d) return null;
    const o = d.owner[s] as number;
    if (o < 0) return null;
    const th = this.theme;
    if (this.colorBy === 'device') return th.palette[((d.device[s] as number) - 1 + th.palette.length) % th.palette.length] as string;
    // age: the longer a slot has been held at this moment, the darker
    const age = Math.max(0, d.time - (d.since[s] as number));
    const frac = Math.min(1, Math.log1p(age) / Math.log1p(this.t1 - this.t0));
    const light = Math.round(75 - 50 * frac);
    return `hsl(${Math.round(200 - 170 * frac)}, 70%, ${light}%)`;
  }

  draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    const w = this.scroller.clientWidth;
    const h = this.scroller.clientHeight;
    if (w === 0 || h === 0) return;
    this.canvas.style.top = `${this.scroller.scrollTop}px`;
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const th = this.theme;
    const cell = this.cell;
    const first = Math.floor(this.scroller.scrollTop / cell);
    const last = Math.min(this.rows - 1, first + Math.ceil(h / cell) + 1);
    const offset = -(this.scroller.scrollTop % cell);
    const gap = cell >= 4 ? 1 : 0;
    ctx.font = '10px var(--vscode-font-family, sans-serif)';
    const segsPerArea = this.areaNslabs ? Math.max(1, this.areaNslabs / SEG) : 0;
    for (let r = first; r <= last; r++) {
      const y = offset + (r - first) * cell;
      for (let c = 0; c < SEG; c++) {
        const s = r * SEG + c;
        if (s >= this.nslabs) break;
        const col = this.colorOf(s);
        ctx.fillStyle = col ?? th.free;
        ctx.fillRect(LABEL_W + c * cell, y, cell - gap, cell - gap);
      }
      if (segsPerArea && r % segsPerArea === 0) {
        ctx.fillStyle = th.muted;
        ctx.fillText(`area ${r / segsPerArea}`, 2, y + Math.min(cell, 10));
        if (r > 0) {
          ctx.fillStyle = th.foreground;
          ctx.fillRect(LABEL_W, y - 1, SEG * cell, 1);
        }
      }
    }
    // the keyboard's slot cursor
    if (this.keySlot >= 0 && document.activeElement === this.scroller) {
      const r = Math.floor(this.keySlot / SEG);
      if (r >= first && r <= last) {
        ctx.strokeStyle = th.foreground;
        ctx.lineWidth = 1;
        ctx.strokeRect(LABEL_W + (this.keySlot % SEG) * cell - 0.5, offset + (r - first) * cell - 0.5, cell, cell);
      }
    }
    // the selected mapping
    const d = this.data;
    if (d && this.highlighted >= 0) {
      ctx.strokeStyle = th.focus;
      ctx.lineWidth = 2;
      for (let r = first; r <= last; r++) {
        const y = offset + (r - first) * cell;
        let runStart = -1;
        for (let c = 0; c <= SEG; c++) {
          const s = r * SEG + c;
          const mine = c < SEG && s < this.nslabs && d.owner[s] === this.highlighted;
          if (mine && runStart < 0) runStart = c;
          if (!mine && runStart >= 0) {
            ctx.strokeRect(LABEL_W + runStart * cell - 1, y - 1, (c - runStart) * cell + 1, cell + 1);
            runStart = -1;
          }
        }
      }
    }
  }
}
