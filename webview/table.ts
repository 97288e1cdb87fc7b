/**
 * The per-call table, virtualised: only the rows in view exist in the DOM, pages of rows are
 * asked of the host as they scroll into view, so a million rows scroll like a hundred. Cells are
 * filled with textContent. Arrow keys, Page Up/Down, Home/End move the selection; Enter opens
 * the row's source. Columns resize (drag a header's right edge), hide and show (header context
 * menu, or the Columns button), reorder (drag a header onto another); a selected cell copies
 * with Ctrl+C (or its context menu).
 */
import { EventKind, Outcome } from '../src/analysis/codes';
import { type ColumnLayout, type ColumnLayoutEntry, MIN_COLUMN_WIDTH, moveColumn, normalizeLayout } from '../src/analysis/columnLayout';
import { type CellContext, cellText, type RawRow, SORT_COLUMNS, type SortColumn, TABLE_COLUMNS } from '../src/analysis/columns';
import { el } from './dom';

/** The columns of the row schema the table can show (src/analysis/columns.ts), with their cell text. */
const ALL_COLUMNS = TABLE_COLUMNS.map((c) => ({
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

type Column = (typeof ALL_COLUMNS)[number];
const BY_KEY = new Map<string, Column>(ALL_COLUMNS.map((c) => [c.key, c]));

const ROW_H = 22;
const PAGE = 200;
/** Browsers cap element heights (~33M px): beyond this the scrollbar maps to rows proportionally. */
const MAX_H = 15_000_000;

export interface TableCallbacks {
  needRows(start: number, count: number): void;
  sortBy(column: SortColumn): void;
  selected(row: RawRow | null, position: number): void;
  activated(row: RawRow): void;
  /** Columns were resized, hidden, shown or moved. */
  layoutChanged(layout: ColumnLayout): void;
  /** Text for the clipboard (a cell or a row). */
  copy(text: string): void;
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
  private columnLayout: ColumnLayoutEntry[] = normalizeLayout(undefined);
  /** The shown columns with their widths, in order. */
  private columns: (Column & { width: number })[] = [];
  private tableW = 0;
  /** The selected cell's column (with the selected row). */
  private selectedKey: string | null = null;
  private menu: HTMLElement | null = null;
  /** A header edge being dragged: no sort click when it ends. */
  private resizing = false;

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
    this.applyLayout();
    this.body.addEventListener('scroll', () => {
      this.header.scrollLeft = this.body.scrollLeft;
      this.render();
    });
    this.body.addEventListener('keydown', (e) => this.onKey(e));
    this.header.addEventListener('contextmenu', (e) => {
      e.preventDefault();
      const key = (e.target as HTMLElement).closest<HTMLElement>('[data-key]')?.dataset.key ?? null;
      this.openColumnMenu(e.clientX, e.clientY, key);
    });
    new ResizeObserver(() => this.render()).observe(this.body);
  }

  /** The columns' order, widths and visibility (for the saved state and view files). */
  get layout(): ColumnLayout {
    return this.columnLayout;
  }

  setLayout(layout: ColumnLayout | undefined): void {
    this.columnLayout = normalizeLayout(layout);
    this.applyLayout();
  }

  private changeLayout(layout: ColumnLayoutEntry[]): void {
    // one column always stays
    if (!layout.some((e) => !e.hidden)) return;
    this.columnLayout = layout;
    this.applyLayout();
    this.cb.layoutChanged(layout);
  }

  private applyLayout(): void {
    this.columns = this.columnLayout.flatMap((e) => {
      const c = BY_KEY.get(e.key);
      return c && !e.hidden ? [{ ...c, width: e.width }] : [];
    });
    this.tableW = this.columns.reduce((w, c) => w + c.width, 0);
    this.spacer.style.width = `${this.tableW}px`;
    if (this.selectedKey && !this.columns.some((c) => c.key === this.selectedKey)) this.selectedKey = null;
    this.renderHeader();
    this.render();
  }

  /** The Columns button's menu, under an element. */
  openColumnMenuAt(anchor: HTMLElement): void {
    const r = anchor.getBoundingClientRect();
    this.openColumnMenu(r.left, r.bottom + 2, null);
  }

  /** Show or hide columns (and move the one clicked on); `key`: the header the menu was opened on. */
  private openColumnMenu(x: number, y: number, key: string | null): void {
    this.closeMenu();
    const menu = el('div', undefined, 'col-menu');
    menu.id = 'column-menu';
    menu.setAttribute('role', 'menu');
    const item = (label: string, run: () => void, checked?: boolean) => {
      const b = el('button', `${checked === undefined ? '' : checked ? '☑ ' : '☐ '}${label}`, 'col-menu-item');
      b.setAttribute('role', checked === undefined ? 'menuitem' : 'menuitemcheckbox');
      if (checked !== undefined) b.setAttribute('aria-checked', String(checked));
      b.addEventListener('click', () => {
        run();
        this.closeMenu();
      });
      menu.appendChild(b);
      return b;
    };
    if (key) {
      const visible = this.columnLayout.filter((e) => !e.hidden);
      const v = visible.findIndex((e) => e.key === key);
      const title = BY_KEY.get(key)?.title ?? key;
      item(`Hide "${title}"`, () => this.setHidden(key, true)).dataset.action = 'hide';
      if (v > 0) item('Move left', () => this.changeLayout(moveColumn(this.columnLayout, key, (visible[v - 1] as ColumnLayoutEntry).key)));
      if (v >= 0 && v < visible.length - 1)
        item('Move right', () =>
          this.changeLayout(moveColumn(this.columnLayout, key, (visible[v + 2] as ColumnLayoutEntry | undefined)?.key ?? null)),
        );
      menu.appendChild(el('hr'));
    }
    for (const e of this.columnLayout) {
      const c = BY_KEY.get(e.key);
      if (!c) continue;
      item(c.title, () => this.setHidden(e.key, !e.hidden), !e.hidden).dataset.key = e.key;
    }
    menu.appendChild(el('hr'));
    item('Reset columns', () => this.changeLayout(normalizeLayout(undefined)));
    this.showMenu(menu, x, y);
    (menu.querySelector('button') as HTMLElement | null)?.focus();
  }

  /** A row cell's menu: copy the cell or the row. */
  private openCellMenu(x: number, y: number, pos: number, key: string): void {
    this.closeMenu();
    const menu = el('div', undefined, 'col-menu');
    menu.id = 'cell-menu';
    menu.setAttribute('role', 'menu');
    const add = (label: string, run: () => void) => {
      const b = el('button', label, 'col-menu-item');
      b.setAttribute('role', 'menuitem');
      b.addEventListener('click', () => {
        run();
        this.closeMenu();
      });
      menu.appendChild(b);
    };
    add('Copy cell', () => this.copyCell(pos, key));
    add('Copy row', () => this.copyCell(pos, null));
    this.showMenu(menu, x, y);
  }

  /** A press outside an open menu closes it (listened to only while one is open). */
  private readonly pressOutside = (e: MouseEvent) => {
    if (this.menu && !this.menu.contains(e.target as Node)) this.closeMenu();
  };

  private showMenu(menu: HTMLElement, x: number, y: number): void {
    document.body.appendChild(menu);
    menu.style.left = `${Math.max(0, Math.min(x, window.innerWidth - menu.offsetWidth - 4))}px`;
    menu.style.top = `${Math.max(0, Math.min(y, window.innerHeight - menu.offsetHeight - 4))}px`;
    menu.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.closeMenu();
    });
    this.menu = menu;
    document.addEventListener('mousedown', this.pressOutside, true);
  }

  private closeMenu(): void {
    this.menu?.remove();
    this.menu = null;
    document.removeEventListener('mousedown', this.pressOutside, true);
  }

  private setHidden(key: string, hidden: boolean): void {
    this.changeLayout(this.columnLayout.map((e) => (e.key === key ? { key: e.key, width: e.width, ...(hidden ? { hidden } : {}) } : e)));
  }

  /** Copies a cell's text (key null: the row's shown cells, tab-separated). */
  private copyCell(pos: number, key: string | null): void {
    const row = this.cache.get(pos);
    if (!row) return;
    const cols = key === null ? this.columns : this.columns.filter((c) => c.key === key);
    this.cb.copy(cols.map((c) => c.value(row, this.context)).join('\t'));
  }

  /** The selected cell's column key (null: none). */
  get selectedColumn(): string | null {
    return this.selectedKey;
  }

  private renderHeader(): void {
    this.header.replaceChildren();
    this.header.style.minWidth = '0';
    for (const c of this.columns) {
      const h = el('div', undefined, 'cell head');
      const label = el('span', c.title, 'head-label');
      h.appendChild(label);
      h.style.width = `${c.width}px`;
      h.dataset.key = c.key;
      h.setAttribute('role', 'columnheader');
      h.draggable = true;
      h.addEventListener('dragstart', (e) => {
        if (this.resizing) {
          e.preventDefault();
          return;
        }
        e.dataTransfer?.setData('text/x-swiotlb-column', c.key);
        if (e.dataTransfer) e.dataTransfer.effectAllowed = 'move';
      });
      h.addEventListener('dragover', (e) => {
        if (e.dataTransfer?.types.includes('text/x-swiotlb-column')) {
          e.preventDefault();
          h.classList.add('drop');
        }
      });
      h.addEventListener('dragleave', () => h.classList.remove('drop'));
      h.addEventListener('drop', (e) => {
        e.preventDefault();
        h.classList.remove('drop');
        const from = e.dataTransfer?.getData('text/x-swiotlb-column');
        if (from && from !== c.key) this.changeLayout(moveColumn(this.columnLayout, from, c.key));
      });
      if (c.sortable) {
        h.classList.add('sortable');
        h.tabIndex = 0;
        if (this.sort.column === c.key) {
          label.textContent = `${c.title} ${this.sort.desc ? '▼' : '▲'}`;
          h.setAttribute('aria-sort', this.sort.desc ? 'descending' : 'ascending');
        }
        const go = () => this.cb.sortBy(c.key as SortColumn);
        h.addEventListener('click', (e) => {
          if (!this.resizing && !(e.target as HTMLElement).classList.contains('resize')) go();
        });
        h.addEventListener('keydown', (e) => {
          if (e.key === 'Enter' || e.key === ' ') go();
        });
      }
      // the right edge resizes the column
      const grip = el('span', undefined, 'resize');
      grip.title = 'Drag to resize';
      grip.addEventListener('mousedown', (e) => this.startResize(e, c.key, h));
      grip.addEventListener('click', (e) => e.stopPropagation());
      h.appendChild(grip);
      this.header.appendChild(h);
    }
  }

  private startResize(e: MouseEvent, key: string, head: HTMLElement): void {
    e.preventDefault();
    e.stopPropagation();
    this.resizing = true;
    head.draggable = false;
    const x0 = e.clientX;
    const w0 = this.columnLayout.find((c) => c.key === key)?.width ?? head.offsetWidth;
    let width = w0;
    const move = (ev: MouseEvent) => {
      width = Math.max(MIN_COLUMN_WIDTH, Math.round(w0 + ev.clientX - x0));
      head.style.width = `${width}px`;
      for (const r of this.rendered) {
        const cell = r.querySelector<HTMLElement>(`[data-key="${key}"]`);
        if (cell) cell.style.width = `${width}px`;
      }
    };
    const up = () => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
      // the click that ends a drag is not a sort
      window.setTimeout(() => {
        this.resizing = false;
      }, 0);
      if (width !== w0) this.changeLayout(this.columnLayout.map((c) => (c.key === key ? { ...c, width } : c)));
      else this.renderHeader();
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
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
      div.setAttribute('aria-rowindex', String(pos + 1));
      if (pos === this.selectedPos) {
        div.classList.add('selected');
        div.setAttribute('aria-selected', 'true');
      }
      if (row?.outcome === Outcome.Failed || row?.outcome === Outcome.Hang) div.classList.add('failed');
      div.style.width = `${this.tableW}px`;
      for (const c of this.columns) {
        const cell = el('div', row ? c.value(row, this.context) : c.key === 'index' ? '…' : '', 'cell');
        cell.style.width = `${c.width}px`;
        cell.dataset.key = c.key;
        cell.setAttribute('role', 'gridcell');
        if (pos === this.selectedPos && c.key === this.selectedKey) {
          cell.classList.add('cell-selected');
          cell.setAttribute('aria-selected', 'true');
        }
        div.appendChild(cell);
      }
      div.addEventListener('click', (e) => {
        this.body.focus();
        this.selectedKey = (e.target as HTMLElement).closest<HTMLElement>('[data-key]')?.dataset.key ?? null;
        this.select(pos);
      });
      div.addEventListener('contextmenu', (e) => {
        e.preventDefault();
        const key = (e.target as HTMLElement).closest<HTMLElement>('[data-key]')?.dataset.key ?? null;
        this.body.focus();
        this.selectedKey = key;
        this.select(pos);
        if (key) this.openCellMenu(e.clientX, e.clientY, pos, key);
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
    if ((e.ctrlKey || e.metaKey) && (e.key === 'c' || e.key === 'C')) {
      if (this.selectedPos >= 0) this.copyCell(this.selectedPos, this.selectedKey);
      e.preventDefault();
      return;
    }
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      const keys = this.columns.map((c) => c.key as string);
      const i = this.selectedKey === null ? -1 : keys.indexOf(this.selectedKey);
      const j = Math.max(0, Math.min(keys.length - 1, i < 0 ? 0 : i + (e.key === 'ArrowLeft' ? -1 : 1)));
      this.selectedKey = keys[j] ?? null;
      this.render();
      e.preventDefault();
      return;
    }
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
