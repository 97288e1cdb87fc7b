/**
 * The per-call table, virtualised: only the rows in view exist in the DOM, pages of rows are
 * asked of the host as they scroll into view, so a million rows scroll like a hundred. Cells are
 * filled with textContent. Arrow keys, Page Up/Down, Home/End move the selection; Enter opens
 * the row's source.
 */
import { EventKind, Outcome } from '../src/analysis/codes';
import { type CellContext, cellText, type RawRow, SORT_COLUMNS, type SortColumn, TABLE_COLUMNS } from '../src/analysis/columns';
import { el } from './dom';

/** The columns of the row schema the table shows (src/analysis/columns.ts), with their cell text. */
const COLUMNS = TABLE_COLUMNS.map((c) => ({
  ...c,
  sortable: (SORT_COLUMNS as readonly string[]).includes(c.key),
  value: (r: RawRow, ctx: TableContext) =>
    c.key === 'index'
      ? String(r.index)
      : // a log row keeps the log's clock (seconds since boot) beside a counter-clock trace
        c.key === 'time' && ctx.logSeconds && r.kind === EventKind.LogMessage
        ? `${r.time.toFixed(3)} s (log)`
        : cellText(c.key, r, ctx),
}));

/** How cells print: the session's names and clock; `logSeconds`: log rows are in seconds, the trace is not. */
export type TableContext = CellContext & { readonly logSeconds?: boolean };

const ROW_H = 22;
const PAGE = 200;
const TABLE_W = COLUMNS.reduce((w, c) => w + c.width, 0);
/** Browsers cap element heights (~33M px): beyond this the scrollbar maps to rows proportionally. */
const MAX_H = 15_000_000;

export interface TableCallbacks {
  needRows(start: number, count: number): void;
  sortBy(column: SortColumn): void;
  selected(row: RawRow | null, position: number): void;
  activated(row: RawRow): void;
}

export class VirtualTable {
  readonly root: HTMLElement;
  private readonly header: HTMLElement;
  private readonly body: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly cache = new Map<number, RawRow>();
  private readonly pending = new Set<number>();
  private total = 0;
  private selectedPos = -1;
  private rendered: HTMLElement[] = [];
  /** How cells print: the session's names and clock. */
  context: TableContext = { names: { devices: [], apis: [], files: [] }, hasClock: false };
  private sort: { column: SortColumn; desc: boolean } = { column: 'index', desc: false };

  constructor(private readonly cb: TableCallbacks) {
    this.root = el('div', undefined, 'table');
    this.root.setAttribute('role', 'grid');
    this.root.setAttribute('aria-label', 'Calls');
    this.header = el('div', undefined, 'table-header');
    this.header.setAttribute('role', 'row');
    this.body = el('div', undefined, 'table-body');
    this.body.tabIndex = 0;
    this.spacer = el('div', undefined, 'table-spacer');
    this.body.appendChild(this.spacer);
    this.root.append(this.header, this.body);
    this.renderHeader();
    this.spacer.style.width = `${TABLE_W}px`;
    this.body.addEventListener('scroll', () => {
      this.header.scrollLeft = this.body.scrollLeft;
      this.render();
    });
    this.body.addEventListener('keydown', (e) => this.onKey(e));
    new ResizeObserver(() => this.render()).observe(this.body);
  }

  private renderHeader(): void {
    this.header.replaceChildren();
    this.header.style.minWidth = '0';
    for (const c of COLUMNS) {
      const h = el('div', c.title, 'cell head');
      h.style.width = `${c.width}px`;
      h.setAttribute('role', 'columnheader');
      if (c.sortable) {
        h.classList.add('sortable');
        h.tabIndex = 0;
        if (this.sort.column === c.key) {
          h.textContent = `${c.title} ${this.sort.desc ? '▼' : '▲'}`;
          h.setAttribute('aria-sort', this.sort.desc ? 'descending' : 'ascending');
        }
        const go = () => this.cb.sortBy(c.key as SortColumn);
        h.addEventListener('click', go);
        h.addEventListener('keydown', (e) => {
          if (e.key === 'Enter' || e.key === ' ') go();
        });
      }
      this.header.appendChild(h);
    }
  }

  setSort(sort: { column: SortColumn; desc: boolean }): void {
    this.sort = sort;
    this.renderHeader();
  }

  /** A new query: forget the cached rows. */
  reset(total: number): void {
    this.total = total;
    this.cache.clear();
    this.pending.clear();
    this.selectedPos = -1;
    this.spacer.style.height = `${Math.min(total * ROW_H, MAX_H)}px`;
    this.body.scrollTop = 0;
    this.render();
  }

  get count(): number {
    return this.total;
  }

  addRows(start: number, rows: readonly RawRow[]): void {
    for (let k = 0; k < rows.length; k++) this.cache.set(start + k, rows[k] as RawRow);
    this.pending.delete(Math.floor(start / PAGE));
    this.render();
    // a selection made before its row arrived
    if (this.selectedPos >= start && this.selectedPos < start + rows.length)
      this.cb.selected(this.cache.get(this.selectedPos) ?? null, this.selectedPos);
  }

  rowAt(pos: number): RawRow | undefined {
    return this.cache.get(pos);
  }

  /** Scrolls to a position and selects it. */
  select(pos: number, notify = true): void {
    if (pos < 0 || pos >= this.total) return;
    this.selectedPos = pos;
    const [first] = this.firstRow();
    const visible = this.body.clientHeight / ROW_H;
    if (pos < first || pos + 1 > first + visible) this.scrollToRow(Math.max(0, pos - visible / 2));
    this.render();
    if (notify) this.cb.selected(this.cache.get(pos) ?? null, pos);
  }

  get selection(): number {
    return this.selectedPos;
  }

  private need(pos: number): void {
    const page = Math.floor(pos / PAGE);
    if (this.pending.has(page)) return;
    this.pending.add(page);
    this.cb.needRows(page * PAGE, Math.min(PAGE, this.total - page * PAGE));
  }

  private get scaled(): boolean {
    return this.total * ROW_H > MAX_H;
  }

  /** The (fractional) row at the top of the viewport, as [row, pixel offset into it]. */
  private firstRow(): [number, number] {
    const h = this.body.clientHeight;
    let exact: number;
    if (!this.scaled) exact = this.body.scrollTop / ROW_H;
    else {
      const maxScroll = Math.max(1, MAX_H - h);
      exact = (Math.min(this.body.scrollTop, maxScroll) / maxScroll) * Math.max(0, this.total - h / ROW_H);
    }
    const row = Math.floor(exact);
    return [row, (exact - row) * ROW_H];
  }

  private scrollToRow(row: number): void {
    const h = this.body.clientHeight;
    if (!this.scaled) this.body.scrollTop = row * ROW_H;
    else this.body.scrollTop = (row / Math.max(1, this.total - h / ROW_H)) * Math.max(1, MAX_H - h);
  }

  private render(): void {
    const h = this.body.clientHeight;
    const [top, offset] = this.firstRow();
    const first = Math.max(0, top - 5);
    const last = Math.min(this.total - 1, top + Math.ceil(h / ROW_H) + 5);
    const yOf = (pos: number) => this.body.scrollTop - offset + (pos - top) * ROW_H;
    for (const r of this.rendered) r.remove();
    this.rendered = [];
    for (let pos = first; pos <= last; pos++) {
      const row = this.cache.get(pos);
      if (!row) this.need(pos);
      const div = el('div', undefined, 'table-row');
      div.setAttribute('role', 'row');
      div.style.top = `${yOf(pos)}px`;
      div.style.width = `${TABLE_W}px`;
      div.setAttribute('aria-rowindex', String(pos + 1));
      if (pos === this.selectedPos) {
        div.classList.add('selected');
        div.setAttribute('aria-selected', 'true');
      }
      if (row?.outcome === Outcome.Failed || row?.outcome === Outcome.Hang) div.classList.add('failed');
      for (const c of COLUMNS) {
        const cell = el('div', row ? c.value(row, this.context) : c.key === 'index' ? '…' : '', 'cell');
        cell.style.width = `${c.width}px`;
        cell.setAttribute('role', 'gridcell');
        div.appendChild(cell);
      }
      div.addEventListener('click', () => {
        this.body.focus();
        this.select(pos);
      });
      div.addEventListener('dblclick', () => {
        const r = this.cache.get(pos);
        if (r) this.cb.activated(r);
      });
      this.body.appendChild(div);
      this.rendered.push(div);
    }
  }

  private onKey(e: KeyboardEvent): void {
    const visible = Math.max(1, Math.floor(this.body.clientHeight / ROW_H) - 1);
    let pos = this.selectedPos;
    switch (e.key) {
      case 'ArrowDown':
        pos++;
        break;
      case 'ArrowUp':
        pos--;
        break;
      case 'PageDown':
        pos += visible;
        break;
      case 'PageUp':
        pos -= visible;
        break;
      case 'Home':
        pos = 0;
        break;
      case 'End':
        pos = this.total - 1;
        break;
      case 'Enter': {
        const r = this.cache.get(this.selectedPos);
        if (r) this.cb.activated(r);
        e.preventDefault();
        return;
      }
      default:
        return;
    }
    e.preventDefault();
    this.select(Math.max(0, Math.min(this.total - 1, pos)));
  }
}
